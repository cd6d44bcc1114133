/**
 * The processor's choice of parser per line (src/pipeline/processor.ts), on real lines from
 * ../shared/data (SOURCES.md): WRCCDC Zeek JSON, surevego EVE, crowdsec-hub sshd.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { InputRecord } from '../../src/core/envelope.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createProcessor, emptyOutput } from '../../src/pipeline/processor.ts';

const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const lines = (file: string, n: number) =>
  readFileSync(`${DATA}${file}`, 'utf8').split('\n').filter(Boolean).slice(0, n);

function kinds(texts: readonly string[], formatHint?: string): string[] {
  const processor = createProcessor({ normalizer: createNormalizer(), now: () => 0 });
  const out = emptyOutput();
  texts.forEach((text, i) => {
    const record: InputRecord = {
      text,
      byteLength: Buffer.byteLength(text),
      position: { kind: 'stream', name: 'kafka-like', sequence: i },
      receivedAt: 0,
    };
    if (formatHint !== undefined) record.formatHint = formatHint;
    processor.process(record, 'stream:kafka-like', out);
  });
  assert.deepEqual(out.rejects, []);
  return out.envelopes.map((e) => `${e.source} ${e.log_type}`);
}

const zeek = lines('zeek-json/wrccdc2018-zeek6.2/dns.json', 3).map((l) => {
  const { _path, ...rest } = JSON.parse(l) as Record<string, unknown>;
  return JSON.stringify(rest);
});
const eve = lines('suricata/surevego/eve.json', 3);
const sshd = lines('auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log', 3);

test('a name hint without a position (Kafka, auto@dns) types only the Zeek lines of a mixed stream', () => {
  assert.deepEqual(kinds([zeek[0], eve[0], sshd[0], zeek[1], eve[1]], 'auto@dns'), [
    'zeek dns',
    'suricata dns',
    'sshd auth',
    'zeek dns',
    'suricata dns',
  ]);
  // The older form of the same hint.
  assert.deepEqual(kinds([zeek[0], eve[0]], 'auto:dns'), ['zeek dns', 'suricata dns']);
});

test('a detected stream whose first line is generic JSON hands each later line a specific format claims to it', () => {
  const generic = '{"level":"info","msg":"cache warmed","entries":1200}';
  assert.deepEqual(kinds([generic, eve[0], zeek[0], sshd[0], generic], 'auto@all'), [
    'json all',
    'suricata dns',
    'zeek dns',
    'sshd auth',
    'json all',
  ]);
  // A named format is never re-detected: `json` takes every JSON line.
  assert.deepEqual(kinds([generic, eve[0]], 'json'), ['json json', 'json json']);
});
