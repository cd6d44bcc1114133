/** Test helpers: envelopes from real fixture lines (test/fixtures/sigma, see its SOURCES.md). */
import { readFileSync } from 'node:fs';
import type { Envelope } from '../../../src/core/envelope.ts';
import { createNormalizer } from '../../../src/normalize/normalize.ts';
import { parserFor } from '../../../src/parsers/registry.ts';
import { SHARED_DATA } from '../../helpers/shared-data.ts';

export const FIXTURES = new URL('../../fixtures/sigma/', import.meta.url);
export const SIGMA = `${SHARED_DATA}/sigma`;

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

/** Lines through a real parser and the normalizer (canonical fields filled), as the pipeline does. */
export function parsedEvents(format: string, name: string, text: string): Envelope[] {
  const parser = parserFor(format).create({ referenceTimeMs: Date.UTC(2026, 0, 1) });
  const normalizer = createNormalizer();
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((line, i) => {
      const position = { kind: 'stream' as const, name, sequence: i };
      const result = parser.parse({
        text: line,
        byteLength: Buffer.byteLength(line),
        position,
        receivedAt: 0,
      });
      if (!result.ok) return [];
      return result.records.map((rec, j) => normalizer.normalize(rec, `${name}:${i}:${j}`, 0));
    });
}

/** nginx access lines from a fixture, through the real nginx parser and normalizer. */
export function nginxEvents(name: string): Envelope[] {
  return parsedEvents('nginx', name, readFileSync(new URL(name, FIXTURES), 'utf8'));
}
