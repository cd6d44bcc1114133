import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Fields, InputRecord, ParsedRecord } from '../../src/core/envelope.ts';
import { eventId } from '../../src/core/ids.ts';
import { NORMALIZED_FIELDS } from '../../src/normalize/fields.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { parserFor } from '../../src/parsers/registry.ts';

/**
 * Every shipped mapping on real lines (test/fixtures/normalize/SOURCES.md): each case file goes
 * through the real parser and the normalizer; the normalized layer of every line is compared with
 * the reviewed golden file `golden/<case>.json` (rewrite with UPDATE_GOLDEN=1 and review the diff).
 */
const FIXTURES = new URL('../fixtures/normalize/', import.meta.url);
const INGEST_TIME_MS = 1_770_000_000_000;
const REFERENCE_TIME_MS = Date.UTC(2026, 1, 2);

const CASES: readonly { file: string; format: string }[] = [
  { file: 'zeek-json-wrccdc.ndjson', format: 'zeek-json' },
  { file: 'zeek-constructed.ndjson', format: 'zeek-json' },
  { file: 'zeek-tsv-conn.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-conn-mac.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-http.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-dhcp.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-dnp3.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-redis.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-sip.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-weird.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-dns-ipv6.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-kerberos.log', format: 'zeek-tsv' },
  { file: 'zeek-tsv-ssl.log', format: 'zeek-tsv' },
  { file: 'suricata-real.ndjson', format: 'suricata-eve' },
  { file: 'suricata-docs.ndjson', format: 'suricata-eve' },
  { file: 'sshd-real.log', format: 'sshd' },
  { file: 'nginx-real.log', format: 'nginx' },
  { file: 'kafka-broker.log', format: 'kafka-log' },
  { file: 'threat-seed.ndjson', format: 'threat-json' },
  { file: 'other-constructed.ndjson', format: 'app-json' },
  { file: 'other-constructed.ndjson', format: 'auth-json' },
  { file: 'other-constructed.ndjson', format: 'json' },
];

export interface GoldenRow {
  line: number;
  source: string;
  log_type: string;
  normalized: Fields;
}

/** Parse and normalize one case file; rejected lines (a format that does not fit) are skipped. */
export function runCase(file: string, format: string): GoldenRow[] {
  const normalizer = createNormalizer();
  const parser = parserFor(format).create({ referenceTimeMs: REFERENCE_TIME_MS });
  const text = readFileSync(new URL(`cases/${file}`, FIXTURES), 'utf8');
  const rows: GoldenRow[] = [];
  let offset = 0;
  text.split('\n').forEach((line, index) => {
    const position = { kind: 'file', path: file, fileId: 'fixture', offset } as const;
    offset += Buffer.byteLength(line) + 1;
    if (line === '') return;
    const record: InputRecord = {
      text: line,
      byteLength: Buffer.byteLength(line),
      position,
      receivedAt: INGEST_TIME_MS,
    };
    const result = parser.parse(record);
    if (!result.ok) return;
    result.records.forEach((parsed: ParsedRecord, i) => {
      const env = normalizer.normalize(parsed, eventId(position, i), INGEST_TIME_MS);
      rows.push({ line: index + 1, source: env.source, log_type: env.log_type, normalized: env.normalized });
    });
  });
  return rows;
}

const goldenName = (file: string, format: string): string =>
  `golden/${format}--${file.replace(/\.\w+$/, '')}.json`;

describe('shipped mappings on real lines (golden)', () => {
  const seen = new Set<string>();
  for (const { file, format } of CASES) {
    it(`${format} ${file} normalizes as reviewed`, () => {
      const rows = runCase(file, format);
      assert.ok(rows.length > 0, `no line of ${file} parsed as ${format}`);
      for (const row of rows) seen.add(`${row.source}/${row.log_type}`);
      const golden = new URL(goldenName(file, format), FIXTURES);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(new URL('golden/', FIXTURES), { recursive: true });
        writeFileSync(golden, `${JSON.stringify(rows, null, 1)}\n`);
      }
      assert.deepEqual(rows, JSON.parse(readFileSync(golden, 'utf8')));
    });
  }
  it('every shipped mapping was exercised by at least one real or documented line', () => {
    const missing = createNormalizer()
      .logTypes()
      .filter((t) => !seen.has(t));
    assert.deepEqual(missing, []);
  });
  it('every normalized value has its dictionary type and every event has time and class', () => {
    for (const { file, format } of CASES) {
      for (const row of runCase(file, format)) {
        const n = row.normalized;
        assert.equal(typeof n.event_time, 'number', `${file}:${row.line} event_time`);
        assert.equal(n.ingest_time, INGEST_TIME_MS);
        assert.equal(typeof n.event_class, 'string', `${file}:${row.line} event_class`);
        for (const [name, value] of Object.entries(n)) {
          const spec = NORMALIZED_FIELDS[name as keyof typeof NORMALIZED_FIELDS];
          assert.ok(spec, `${file}:${row.line} ${name} is not in the dictionary`);
          const t = spec.type;
          const ok =
            t === 'number' || t === 'time_ms'
              ? typeof value === 'number' && Number.isFinite(value)
              : t === 'boolean'
                ? typeof value === 'boolean'
                : t === 'string[]'
                  ? Array.isArray(value) && value.every((v) => typeof v === 'string')
                  : t === 'string' || t === 'ip'
                    ? typeof value === 'string' && (!spec.values || spec.values.includes(value))
                    : true;
          assert.ok(ok, `${file}:${row.line} ${name}=${JSON.stringify(value)} is not a ${t}`);
        }
      }
    }
  });
});
