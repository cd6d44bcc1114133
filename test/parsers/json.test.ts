import assert from 'node:assert/strict';
import { test } from 'node:test';
import { json } from '../../src/parsers/json.ts';
import { feed, one, verdict } from './helpers.ts';

test('json: configured time field and log type; a missing configured time field is a reject', () => {
  const settings = { time_field: 'when', log_type: 'custom' };
  const results = feed(json, ['{"when": 1700000000123, "a": 1}', '{"a": 2}', '{"when": "soon"}'], {
    settings,
  });
  const r = one(results[0]);
  assert.deepEqual(r, {
    source: 'json',
    log_type: 'custom',
    raw: { when: 1700000000123, a: 1 },
    eventTimeMs: 1700000000123,
  });
  assert.deepEqual(results.slice(1).map(verdict), ['missing_field', 'bad_timestamp']);
  // Without settings: the usual time keys, log type json, no time is fine.
  assert.equal(one(feed(json, ['{"a": 1}'])[0]).log_type, 'json');
  assert.equal(
    one(feed(json, ['{"@timestamp": "2024-01-01T00:00:00Z"}'])[0]).eventTimeMs,
    Date.UTC(2024, 0, 1),
  );
});
