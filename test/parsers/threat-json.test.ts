import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threatJson } from '../../src/parsers/threat-json.ts';
import { feed, one, verdict } from './helpers.ts';

test('threat-json: the seed event as raw, no time unless one is given', () => {
  const r = one(feed(threatJson, ['{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}'])[0]);
  assert.deepEqual(r, {
    source: 'threat',
    log_type: 'threat',
    raw: { host: 'endpoint01', threat: 'malware.exe', severity: 'high' },
  });
  assert.deepEqual(feed(threatJson, ['{"host": "h", "severity": "low"}', '{"threat": "t"}']).map(verdict), [
    'missing_field',
    'missing_field',
  ]);
});

test('threat-json: no host is fine when the severity is usable (the seed analyzer prints "Host: Unknown")', () => {
  const r = one(feed(threatJson, ['{"threat": "exploit_attempt", "severity": " Critical "}'])[0]);
  assert.deepEqual(r.raw, { threat: 'exploit_attempt', severity: ' Critical ' });
  // Without host and without a usable severity the event says nothing actionable.
  assert.deepEqual(feed(threatJson, ['{"threat": "t", "severity": "  "}', '{"threat": "t"}']).map(verdict), [
    'missing_field',
    'missing_field',
  ]);
});
