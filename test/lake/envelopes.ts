/**
 * Test helper: envelopes from the real Zeek JSON fixture lines. The few canonical fields the lake
 * tests look at are promoted here directly (the normalizer has its own tests); ids are the real
 * deterministic ids of a file position.
 */
import { readFileSync } from 'node:fs';
import type { Envelope } from '../../src/core/envelope.ts';
import { eventId } from '../../src/core/ids.ts';

const FIXTURES = new URL('../fixtures/lake/', import.meta.url);

export function zeekFixtureLines(logType: 'dns' | 'ssh' | 'ssl'): Record<string, unknown>[] {
  const text = readFileSync(new URL(`zeek-${logType}.ndjson`, FIXTURES), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** One envelope from a raw Zeek JSON record; `eventTimeMs` overrides the record's ts. */
export function zeekEnvelope(raw: Record<string, unknown>, index: number, eventTimeMs?: number): Envelope {
  const logType = String(raw._path);
  const time = eventTimeMs ?? Date.parse(String(raw.ts));
  return {
    id: eventId({ kind: 'file', path: `zeek/${logType}.json`, fileId: `fixture-${logType}`, offset: index }),
    source: 'zeek',
    log_type: logType,
    raw,
    normalized: {
      event_time: time,
      ingest_time: time + 1000,
      event_class: logType === 'dns' ? 'dns' : 'network',
      flow_id: raw.uid,
      src_ip: raw['id.orig_h'],
      src_port: raw['id.orig_p'],
      dst_ip: raw['id.resp_h'],
      dst_port: raw['id.resp_p'],
      protocol: raw.proto ?? 'tcp',
      ...(logType === 'dns' ? { dns_query: raw.query, dns_answers: raw.answers ?? [] } : {}),
    },
    enriched: { src_ip_is_private: true, direction: 'internal', event_hour: new Date(time).getUTCHours() },
  };
}

/** `count` envelopes cycling through the fixture lines of `logType`, ids unique per `seed`. */
export function manyEnvelopes(
  logType: 'dns' | 'ssh' | 'ssl',
  count: number,
  startMs: number,
  stepMs: number,
  seed = 'a',
): Envelope[] {
  const lines = zeekFixtureLines(logType);
  const out: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    const env = zeekEnvelope(lines[i % lines.length], i, startMs + i * stepMs);
    env.id = eventId({ kind: 'stream', name: `${seed}-${logType}`, sequence: i });
    out.push(env);
  }
  return out;
}
