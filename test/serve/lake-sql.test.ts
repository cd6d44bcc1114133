import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alertEventsSql,
  decodeEventCursor,
  encodeEventCursor,
  eventCursorProblem,
  eventsSql,
  partitionPrune,
  searchWindows,
} from '../../src/serve/lake-sql.ts';

test('text search escapes LIKE wildcards, so % and _ match themselves', () => {
  const sql = eventsSql({ q: "100%_x'", limit: 10 }, 'events');
  assert.match(sql, /ILIKE '%100\\%\\_x''%' ESCAPE '\\'/);
  assert.match(sql, /LIMIT 11$/, 'one extra row tells whether there is a next page');
});

test('a cursor round-trips, and a forged one is ignored instead of reaching SQL', () => {
  const c = encodeEventCursor(1_700_000_000_000, "id'1");
  assert.deepEqual(decodeEventCursor(c), { t: 1_700_000_000_000, id: "id'1", order: 'desc' });
  assert.match(eventsSql({ limit: 5, cursor: c }, 'events'), /id < 'id''1'/);
  for (const bad of [
    'not-base64!',
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('{').toString('base64url'),
  ])
    assert.equal(decodeEventCursor(bad), null);
  assert.doesNotMatch(eventsSql({ limit: 5, cursor: 'garbage' }, 'events'), /WHERE/);
  const later = eventsSql(
    { limit: 5, cursor: encodeEventCursor(Date.parse('2026-03-04T05:30:00Z'), 'x') },
    'events',
  );
  assert.match(later, /\(year, month, day, hour\) <= \(2026, 3, 4, 5\)/, 'newer hours pruned');
});

test('time bounds prune hour partitions (UTC) on both ends', () => {
  const from = Date.parse('2026-03-04T05:59:00Z');
  const to = Date.parse('2026-03-04T07:00:00Z');
  assert.deepEqual(partitionPrune(from, to), [
    '(year, month, day, hour) >= (2026, 3, 4, 5)',
    '(year, month, day, hour) <= (2026, 3, 4, 7)',
  ]);
});

test('oldest first: ascending order, a cursor continues after its row and prunes the older hours', () => {
  const c = encodeEventCursor(Date.parse('2026-03-04T05:30:00Z'), 'x', 'asc');
  assert.deepEqual(decodeEventCursor(c), { t: Date.parse('2026-03-04T05:30:00Z'), id: 'x', order: 'asc' });
  const sql = eventsSql({ limit: 5, cursor: c, order: 'asc' }, 'events');
  assert.match(sql, /ORDER BY event_time ASC, id ASC LIMIT 6$/);
  assert.match(sql, /id > 'x'/);
  assert.match(sql, /\(year, month, day, hour\) >= \(2026, 3, 4, 5\)/);
  // A cursor made for the other order is refused by the route, and never applied by the SQL.
  assert.match(eventCursorProblem(c, 'desc') ?? '', /made for order=asc/);
  assert.equal(eventCursorProblem(c, 'asc'), null);
  assert.match(eventCursorProblem('garbage', 'desc') ?? '', /invalid cursor/);
  assert.doesNotMatch(eventsSql({ limit: 5, cursor: c }, 'events'), /WHERE/);
});

test("an alert's events: only the hours of its span, every id quoted, oldest first, paged by cursor", () => {
  const span = {
    firstSeenMs: Date.parse('2026-03-04T05:59:00Z'),
    lastSeenMs: Date.parse('2026-03-04T07:10:00Z'),
  };
  const sql = alertEventsSql(['a', "b'"], span, { limit: 100 });
  assert.match(sql, /id IN \('a', 'b'''\)/);
  assert.match(sql, />= \(2026, 3, 4, 5\) AND .*<= \(2026, 3, 4, 7\)/);
  assert.match(sql, /ORDER BY event_time ASC, id ASC LIMIT 101$/);
  const next = alertEventsSql(['a'], span, {
    limit: 100,
    cursor: encodeEventCursor(Date.parse('2026-03-04T06:30:00Z'), 'a', 'asc'),
  });
  assert.match(
    next,
    />= \(2026, 3, 4, 6\) AND .*<= \(2026, 3, 4, 7\)/,
    'the hours before the cursor are not read again',
  );
  assert.match(next, /id > 'a'/);
});

test('search windows: newest first from the range end back, 1 h, 5 h, 18 h, then 6 hours at a time, each time once', () => {
  const H = 3_600_000;
  const to = Date.parse('2026-03-04T12:00:00Z');
  assert.deepEqual(searchWindows({ to, order: 'desc', now: to + 5 * H }), [
    { after: to - H, upTo: undefined },
    { after: to - 6 * H, upTo: to - H },
    { after: to - 24 * H, upTo: to - 6 * H },
    { upTo: to - 24 * H },
  ]);
  // A 2-hour range: the newest hour, then the rest of the range (the range's from bounds it).
  assert.deepEqual(searchWindows({ from: to - 2 * H, to, order: 'desc', now: to }), [
    { after: to - H, upTo: undefined },
    { upTo: to - H },
  ]);
  // A 3.5-day range: after the steps, 6 hours at a time, then what is left of the range.
  assert.deepEqual(searchWindows({ from: to - 84 * H, to, order: 'desc', now: to }), [
    { after: to - H, upTo: undefined },
    { after: to - 6 * H, upTo: to - H },
    { after: to - 24 * H, upTo: to - 6 * H },
    ...[30, 36, 42, 48, 54, 60, 66, 72, 78, 84].map((h) => ({ after: to - h * H, upTo: to - (h - 6) * H })),
    { upTo: to - 84 * H },
  ]);
  assert.deepEqual(searchWindows({ from: to - 84 * H, to, order: 'asc', now: to }), [
    { after: undefined, upTo: to - 83 * H },
    { after: to - 83 * H, upTo: to - 78 * H },
    { after: to - 78 * H, upTo: to - 60 * H },
    ...[54, 48, 42, 36, 30, 24, 18, 12, 6].map((h) => ({ after: to - (h + 6) * H, upTo: to - h * H })),
    { after: to - 6 * H },
  ]);
  // A 15-minute range is one window; a cursor anchors the windows at its time.
  assert.deepEqual(searchWindows({ from: to - H / 4, to, order: 'desc', now: to }), [{ upTo: undefined }]);
  assert.deepEqual(searchWindows({ cursorT: to - 3 * H, order: 'desc', now: to })[0], {
    after: to - 4 * H,
    upTo: undefined,
  });
});

test('search windows: oldest first from the range start on; without a start it is one window', () => {
  const H = 3_600_000;
  const from = Date.parse('2026-03-04T00:00:00Z');
  assert.deepEqual(searchWindows({ from, to: from + 3 * H, order: 'asc', now: from + 9 * H }), [
    { after: undefined, upTo: from + H },
    { after: from + H },
  ]);
  assert.deepEqual(searchWindows({ order: 'asc', now: from }), [{}]);
});

test('a window adds exact time bounds and the partition pruning of its hours', () => {
  const sql = eventsSql({ limit: 5 }, 'events', {
    after: Date.parse('2026-03-04T05:30:00Z'),
    upTo: Date.parse('2026-03-04T07:10:00Z'),
  });
  assert.match(sql, /\(year, month, day, hour\) >= \(2026, 3, 4, 5\)/);
  assert.match(sql, /event_time > make_timestamp\(1772602200000000\)/);
  assert.match(sql, /\(year, month, day, hour\) <= \(2026, 3, 4, 7\)/);
  assert.match(sql, /event_time <= make_timestamp\(1772608200000000\)/);
});
