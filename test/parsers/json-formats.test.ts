/** auth-json, app-json, threat-json and json: the JSON shapes the seeds stream. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appJson } from '../../src/parsers/app-json.ts';
import { authJson } from '../../src/parsers/auth-json.ts';
import { json } from '../../src/parsers/json.ts';
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

test('app-json: FastAPI login events typed as logged; the Docker json-file wrapper is unwrapped', () => {
  const [login, wrapped] = feed(appJson, [
    '{"timestamp": "2026-01-31T10:00:02Z", "level": "ERROR", "service": "fastapi", "event": "login_blocked", "username": "alice", "ip": "203.0.113.7", "status": 429, "failed_attempts_window": 6, "retry_after": 60, "is_bot": true}',
    JSON.stringify({
      log: '{"service": "fastapi", "event": "login_success", "username": "bob"}\n',
      stream: 'stdout',
      time: '2026-01-31T10:00:03.5Z',
    }),
  ]).map(one);
  assert.equal(login.raw.failed_attempts_window, 6);
  assert.equal(login.raw.is_bot, true);
  assert.equal(login.eventTimeMs, Date.UTC(2026, 0, 31, 10, 0, 2));
  assert.deepEqual(wrapped.raw, {
    service: 'fastapi',
    event: 'login_success',
    username: 'bob',
    time: '2026-01-31T10:00:03.5Z',
  });
  assert.equal(wrapped.eventTimeMs, Date.UTC(2026, 0, 31, 10, 0, 3, 500));
});

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
