import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferYear, parseSyslogHeader } from '../../src/parsers/syslog-header.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('RFC 3164 year: a December line read on January 1 belongs to the previous year (New Year rollover)', () => {
  const ref = Date.UTC(2026, 0, 1, 0, 5);
  assert.equal(
    iso(parseSyslogHeader('Dec 31 23:59:58 host sshd[1]: x', ref)?.eventTimeMs),
    '2025-12-31T23:59:58.000Z',
  );
  assert.equal(
    iso(parseSyslogHeader('Jan  1 00:04:00 host sshd[1]: x', ref)?.eventTimeMs),
    '2026-01-01T00:04:00.000Z',
  );
});

test('RFC 3164 year: a January line read on December 31 (sender clock ahead) belongs to the next year', () => {
  assert.equal(iso(inferYear(0, 1, 0, 0, 1, Date.UTC(2025, 11, 31, 23, 59))), '2026-01-01T00:00:01.000Z');
});

test('RFC 3164 year: a date up to 2 days ahead stays in the reference year, more is last year', () => {
  const ref = Date.UTC(2026, 5, 10);
  assert.equal(iso(inferYear(5, 11, 0, 0, 0, ref)), '2026-06-11T00:00:00.000Z');
  assert.equal(iso(inferYear(5, 20, 0, 0, 0, ref)), '2025-06-20T00:00:00.000Z');
});

test('RFC 5424 header: PRI, timestamp with offset, app, procid, structured data and message', () => {
  const h = parseSyslogHeader(
    '<38>1 2022-01-19T14:23:55+02:00 fw sshd 44255 ID47 [meta sequenceId="1"] Invalid user tutu',
    0,
  );
  assert.deepEqual(h, {
    timestamp: '2022-01-19T14:23:55+02:00',
    eventTimeMs: Date.UTC(2022, 0, 19, 12, 23, 55),
    host: 'fw',
    program: 'sshd',
    pid: 44255,
    msgid: 'ID47',
    structured_data: '[meta sequenceId="1"]',
    message: 'Invalid user tutu',
    facility: 4,
    severity: 6,
  });
});

test('ISO timestamps with and without offset; not-syslog text gives undefined', () => {
  assert.equal(
    iso(parseSyslogHeader('2023-11-14T00:20:42.738197+01:00 h sshd[1]: m', 0)?.eventTimeMs),
    '2023-11-13T23:20:42.738Z',
  );
  assert.equal(
    iso(parseSyslogHeader('2019-06-14T10:40:20.912134 h sudo: m', 0)?.eventTimeMs),
    '2019-06-14T10:40:20.912Z',
  );
  assert.equal(parseSyslogHeader('hello world', 0), undefined);
  assert.equal(parseSyslogHeader('Foo 12 10:00:00 h x: y', 0), undefined);
});
