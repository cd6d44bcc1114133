import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appJson } from '../../src/parsers/app-json.ts';
import { feed, one } from './helpers.ts';

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
