/** Test helpers: envelopes from real fixture lines (test/fixtures/sigma, see its SOURCES.md). */
import { readFileSync } from 'node:fs';
import type { Envelope } from '../../../src/core/envelope.ts';

export const FIXTURES = new URL('../../fixtures/sigma/', import.meta.url);
export const SIGMA = '/work/shared/data/sigma';

export function envelope(
  source: string,
  log_type: string,
  raw: Record<string, unknown>,
  normalized = {},
): Envelope {
  return { id: `${source}-${log_type}`, source, log_type, raw, normalized, enriched: {} };
}

function lines(name: string): string[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** Zeek JSON lines; the btest placeholder timestamp `XXXXXXXXXX.XXXXXX` is not JSON, so it becomes null. */
export function zeekEvents(name: string): Envelope[] {
  return lines(name).map((l) => {
    const raw = JSON.parse(l.replace(/XXXXXXXXXX\.XXXXXX/g, 'null')) as Record<string, unknown>;
    return envelope('zeek', String(raw._path ?? name.replace(/^zeek-|\.ndjson$/g, '')), raw);
  });
}

export function suricataEvents(name: string): Envelope[] {
  return lines(name).map((l) => {
    const raw = JSON.parse(l) as Record<string, unknown>;
    return envelope('suricata', String(raw.event_type), raw);
  });
}

// nginx "combined": the fields an nginx parser + normalizer produce, with canonical names.
const COMBINED = /^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"/;

export function nginxEvents(name: string): Envelope[] {
  return lines(name).flatMap((l) => {
    const m = COMBINED.exec(l);
    if (!m) return [];
    const raw = {
      remote_addr: m[1],
      remote_user: m[2],
      time_local: m[3],
      method: m[4],
      request_uri: m[5],
      protocol: m[6],
      status: Number(m[7]),
      http_referer: m[9],
      http_user_agent: m[10],
    };
    const normalized = {
      src_ip: m[1],
      http_method: m[4],
      url: m[5],
      http_status: Number(m[7]),
      user_agent: m[10],
    };
    return [envelope('nginx', 'access', raw, normalized)];
  });
}
