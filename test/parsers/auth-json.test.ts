import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authJson } from '../../src/parsers/auth-json.ts';
import { feed, one, verdict } from './helpers.ts';

test('auth-json: field-name variants accepted, user and source IP required', () => {
  const [a, b] = feed(authJson, [
    '{"event_time": "2026-01-31T10:00:00Z", "user": "alice", "src_ip": "203.0.113.7", "outcome": "failure", "method": "password", "host": "web-01"}',
    '{"timestamp": 1769853602, "username": "bob", "source_ip": "2001:db8::7", "result": "FAILURE"}',
  ]).map(one);
  assert.equal(a.eventTimeMs, Date.UTC(2026, 0, 31, 10));
  assert.equal(a.log_type, 'auth');
  assert.equal(b.eventTimeMs, 1769853602000);
  assert.equal(b.raw.username, 'bob');
  assert.deepEqual(
    feed(authJson, ['{"user": "x", "outcome": "failure"}', '{"ip": "1.2.3.4"}']).map(verdict),
    ['missing_field', 'missing_field'],
  );
});
