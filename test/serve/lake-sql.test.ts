import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEventCursor,
  encodeEventCursor,
  eventsByIdsSql,
  eventsSql,
  partitionPrune,
} from '../../src/serve/lake-sql.ts';

test('text search escapes LIKE wildcards, so % and _ match themselves', () => {
  const sql = eventsSql({ q: "100%_x'", limit: 10 }, 'events');
  assert.match(sql, /ILIKE '%100\\%\\_x''%' ESCAPE '\\'/);
  assert.match(sql, /LIMIT 11$/, 'one extra row tells whether there is a next page');
});

test('a cursor round-trips, and a forged one is ignored instead of reaching SQL', () => {
  const c = encodeEventCursor(1_700_000_000_000, "id'1");
  assert.deepEqual(decodeEventCursor(c), { t: 1_700_000_000_000, id: "id'1" });
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
  assert.match(
    later,
    /\(year \* 1000000 \+ month \* 10000 \+ day \* 100 \+ hour\) <= 2026030405/,
    'newer hours pruned',
  );
});

test('time bounds prune hour partitions (UTC) on both ends', () => {
  const from = Date.parse('2026-03-04T05:59:00Z');
  const to = Date.parse('2026-03-04T07:00:00Z');
  assert.deepEqual(partitionPrune(from, to), [
    '(year * 1000000 + month * 10000 + day * 100 + hour) >= 2026030405',
    '(year * 1000000 + month * 10000 + day * 100 + hour) <= 2026030407',
  ]);
});

test('events by id quote every id and cap the rows to the ids asked', () => {
  const sql = eventsByIdsSql(['a', "b'"]);
  assert.match(sql, /WHERE id IN \('a', 'b'''\)/);
  assert.match(sql, /LIMIT 2$/);
});
