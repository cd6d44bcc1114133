import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { detectSchema } from '../../src/config/schema.ts';
import { createEventMatcher } from '../../src/detect/detector.ts';
import { isMatchMessage, type MatchMessage, messageKey } from '../../src/detect/matches.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';

const FILE = new URL('../fixtures/detect/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log', import.meta.url)
  .pathname;

function messages(): MatchMessage[] {
  const lines = readFileSync(FILE, 'utf8').split('\n').filter(Boolean);
  const events = createEnvelopeReader({
    name: FILE,
    format: 'sshd',
    normalizer: createNormalizer(),
    receivedAt: Date.UTC(2026, 10, 1),
  }).read(lines);
  const matcher = createEventMatcher({
    ruleSet: loadRules([new URL('../../rules/', import.meta.url).pathname]),
    config: detectSchema.parse({}),
  });
  return matcher.matchEvents(events, 'raw.auth:0');
}

test('match messages of real sshd failures: keyed by rule + group, carry origin and clock, survive JSON', () => {
  const ms = messages();
  assert.ok(ms.length > 0);
  for (const m of ms) {
    assert.ok(isMatchMessage(JSON.parse(JSON.stringify(m))));
    assert.equal(m.origin, 'raw.auth:0');
    assert.equal(typeof m.clock, 'number');
  }
  const keys = new Set(ms.filter((m) => m.type === 'correlation').map(messageKey));
  // One source, one account in this file: each correlation sees one group, so one key per correlation.
  const correlations = new Set(ms.flatMap((m) => (m.type === 'correlation' ? [m.match.correlation_id] : [])));
  assert.equal(keys.size, correlations.size);
  for (const k of keys) assert.match(k, /^[0-9a-f-]{36}\|/);
  // The clock never goes back along one origin.
  const clocks = ms.map((m) => m.clock ?? 0);
  assert.deepEqual(
    clocks,
    [...clocks].sort((a, b) => a - b),
  );
});

test('anything else on the matches topic is not a match message', () => {
  const [m] = messages();
  for (const bad of [
    null,
    'text',
    { id: 'x', source: 'sshd', log_type: 'auth', raw: {}, normalized: {}, enriched: {} },
    { ...m, origin: 3 },
    {
      type: 'correlation',
      origin: 'a:0',
      match: { correlation_id: 'c', rule_id: 'r', group: 'g', event_time: 1, event_id: 'e' },
    },
    { type: 'event', origin: 'a:0', rule_id: 'r', event_id: 'e', event_time: '1', group: {} },
  ]) {
    assert.equal(isMatchMessage(bad), false, JSON.stringify(bad));
  }
});
