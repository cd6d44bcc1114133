import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bucketSeconds,
  DEFAULT_RANGE,
  describeRange,
  formatClock,
  formatTime,
  inputToMs,
  isRelative,
  msToInput,
  queryRange,
  rangeFromParams,
  resolveRange,
  resolveTime,
} from '../../src/web/time.ts';

const NOW = Date.parse('2026-12-07T17:52:57.123Z');

test('relative range ends resolve against now; epoch ms pass through; anything else is refused', () => {
  assert.equal(resolveTime('now', NOW), NOW);
  assert.equal(resolveTime('now-15m', NOW), NOW - 15 * 60_000);
  assert.equal(resolveTime('now-7d', NOW), NOW - 7 * 86_400_000);
  assert.equal(resolveTime('1796665977123', NOW), 1796665977123);
  assert.equal(resolveTime('yesterday', NOW), undefined);
  assert.equal(resolveTime('now-15x', NOW), undefined);
});

test('an unreadable or reversed range falls back to the last 15 minutes', () => {
  assert.deepEqual(resolveRange({ from: 'now', to: 'now-1h' }, NOW), resolveRange(DEFAULT_RANGE, NOW));
  assert.deepEqual(rangeFromParams(new URLSearchParams('from=garbage&to=now')), DEFAULT_RANGE);
  assert.deepEqual(rangeFromParams(new URLSearchParams('from=now-6h&to=now')), { from: 'now-6h', to: 'now' });
});

test('a relative range queries from a one-minute grid and leaves the end to the server', () => {
  const q = queryRange({ from: 'now-15m', to: 'now' }, NOW);
  assert.deepEqual(q, { from: Date.parse('2026-12-07T17:37:00Z') });
  // The same query text for the whole minute: refreshes reload it, renders do not change it.
  assert.deepEqual(queryRange({ from: 'now-15m', to: 'now' }, NOW + 2_000), q);
  const abs = { from: '1796660000000', to: '1796665000000' };
  assert.equal(isRelative(abs), false);
  assert.deepEqual(queryRange(abs, NOW), { from: 1796660000000, to: 1796665000000 });
});

test('buckets are round and give at most ~120 points', () => {
  assert.equal(bucketSeconds(NOW - 15 * 60_000, NOW), 10);
  assert.equal(bucketSeconds(NOW - 3_600_000, NOW), 30);
  assert.equal(bucketSeconds(NOW - 86_400_000, NOW), 900);
  assert.equal(bucketSeconds(NOW - 7 * 86_400_000, NOW), 7200);
});

test('times read the same everywhere: 24-hour, zero-padded, in UTC or the local zone', () => {
  assert.equal(formatTime(NOW, 'utc'), '2026-12-07 17:52:57');
  assert.equal(formatTime(Date.parse('2026-01-02T03:04:05Z'), 'utc'), '2026-01-02 03:04:05');
  assert.equal(formatClock(Date.parse('2026-01-02T23:04:05Z'), 'utc'), '23:04:05');
  assert.equal(formatClock(Date.parse('2026-01-02T00:04:05Z'), 'utc', false), '00:04');
  assert.equal(formatTime(null, 'utc'), '—');
  assert.equal(formatTime('not a time', 'utc'), '—');
  // The local zone is the process's (TZ); both agree with Date's own view of local time.
  const local = new Date(NOW);
  const pad = (n: number) => String(n).padStart(2, '0');
  assert.equal(
    formatTime(NOW, 'local'),
    `${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())} ${pad(local.getHours())}:${pad(local.getMinutes())}:${pad(local.getSeconds())}`,
  );
});

test('the datetime inputs of a custom range round-trip in the chosen zone', () => {
  const ms = Date.parse('2026-12-07T17:52:57Z');
  assert.equal(msToInput(ms, 'utc'), '2026-12-07T17:52:57');
  assert.equal(inputToMs('2026-12-07T17:52:57', 'utc'), ms);
  assert.equal(inputToMs(msToInput(ms, 'local'), 'local'), ms);
  assert.equal(inputToMs('', 'utc'), undefined);
});

test('a range reads as its quick name, or from – to with the zone', () => {
  assert.equal(describeRange({ from: 'now-1h', to: 'now' }, 'utc'), 'Last hour');
  assert.equal(describeRange({ from: 'now-90m', to: 'now' }, 'utc'), 'Last 90m');
  assert.equal(
    describeRange(
      { from: String(Date.parse('2026-12-07T10:00:00Z')), to: String(Date.parse('2026-12-07T12:00:00Z')) },
      'utc',
    ),
    '2026-12-07 10:00:00 – 2026-12-07 12:00:00 UTC',
  );
});
