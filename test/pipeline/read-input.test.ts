/**
 * The in-memory line reader (createEnvelopeReader, src/pipeline/read-input.ts) follows the one rule
 * of every reader: no format named → each line's own format, unknown lines rejected, never a throw.
 * Real lines from ../shared/data (SOURCES.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';

const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const lines = (file: string, n: number) =>
  readFileSync(`${DATA}${file}`, 'utf8').split('\n').filter(Boolean).slice(0, n);

test('lines of several formats without a named format: each read as its own, garbage rejected', () => {
  const eve = lines('suricata/surevego/eve.json', 2);
  const sshd = lines('auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log', 2);
  const nginx = lines('nginx/elastic-beats/test.log', 2);
  const reader = createEnvelopeReader({
    name: 'mixed-fixture',
    normalizer: createNormalizer(),
    receivedAt: 0,
  });
  const envelopes = reader.read(['garbage first', eve[0], sshd[0], nginx[0], eve[1], sshd[1], nginx[1]]);
  assert.deepEqual(
    envelopes.map((e) => `${e.source} ${e.log_type}`),
    ['suricata dns', 'sshd auth', 'nginx access', 'suricata dns', 'sshd auth', 'nginx access'],
  );
  assert.deepEqual(reader.counts, { lines: 7, events: 6, rejects: 1, skipped: 0 });
  // Nothing recognisable at all: rejects, not an exception.
  const none = createEnvelopeReader({ name: 'garbage', normalizer: createNormalizer(), receivedAt: 0 });
  assert.deepEqual(none.read(['garbage one', 'garbage two']), []);
  assert.equal(none.counts.rejects, 2);
});
