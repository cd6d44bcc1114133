import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.ts';
import { encodeCursor } from '../../src/sinks/alert-store.ts';
import { listStatement, POSTGRES_DIALECT, SQLITE_DIALECT, sqlIn } from '../../src/sinks/alert-store-sql.ts';

const filter = {
  status: ['new', 'acknowledged'] as const,
  level: 'high' as const,
  rule_id: 'r1',
  entity: '10.0.0.1',
  from: 1000,
  to: 2000,
  cursor: encodeCursor({ sort: 'last_seen', order: 'desc', value: 1500, id: 'a1' }),
};

test('one list query, two dialects: SQLite binds each value to an anonymous ? in text order', () => {
  const s = listStatement(SQLITE_DIALECT, filter, 50);
  assert.equal(
    s.text,
    'SELECT * FROM alerts WHERE status IN (?, ?) AND level IN (?) AND rule_id = ? AND entity = ? AND last_seen >= ? AND first_seen <= ? AND (last_seen, id) < (?, ?) ORDER BY last_seen DESC, id DESC LIMIT ?',
  );
  assert.deepEqual(s.values, ['new', 'acknowledged', 'high', 'r1', '10.0.0.1', 1000, 2000, 1500, 'a1', 51]);
});

test('one list query, two dialects: PostgreSQL numbers its placeholders and binds a list as one array', () => {
  const s = listStatement(POSTGRES_DIALECT, filter, 50);
  assert.equal(
    s.text,
    'SELECT * FROM alerts WHERE status = ANY($1) AND level = ANY($2) AND rule_id = $3 AND entity = $4 AND last_seen >= $5 AND first_seen <= $6 AND (last_seen, id) < ($7, $8) ORDER BY last_seen DESC, id DESC LIMIT $9',
  );
  assert.deepEqual(s.values, [
    ['new', 'acknowledged'],
    ['high'],
    'r1',
    '10.0.0.1',
    1000,
    2000,
    1500,
    'a1',
    51,
  ]);
});

test('no filter: no WHERE, only the page size (one row more tells whether a next page exists)', () => {
  assert.deepEqual(listStatement(POSTGRES_DIALECT, {}, 10), {
    text: 'SELECT * FROM alerts ORDER BY last_seen DESC, id DESC LIMIT $1',
    values: [11],
  });
});

test('the statement template turns every interpolated value into a bound placeholder, never text', () => {
  const hostile = "x'; DROP TABLE alerts; --";
  const s = sqlIn(POSTGRES_DIALECT)`UPDATE alerts SET assignee = ${hostile} WHERE id = ${'a'}`;
  assert.equal(s.text, 'UPDATE alerts SET assignee = $1 WHERE id = $2');
  assert.deepEqual(s.values, [hostile, 'a']);
});

test('a sort by level orders by severity rank, ascending pages go after the cursor with >', () => {
  const cursor = encodeCursor({ sort: 'level', order: 'asc', value: 2, id: 'a1' });
  const s = listStatement(SQLITE_DIALECT, { sort: 'level', order: 'asc', cursor }, 10);
  const rank =
    "(CASE level WHEN 'informational' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE -1 END)";
  assert.equal(
    s.text,
    `SELECT * FROM alerts WHERE (${rank}, id) > (?, ?) ORDER BY ${rank} ASC, id ASC LIMIT ?`,
  );
  assert.deepEqual(s.values, [2, 'a1', 11]);
});

test('a cursor is only good for the sort it was made for', () => {
  const cursor = encodeCursor({ sort: 'count', order: 'desc', value: 7, id: 'a1' });
  assert.throws(() => listStatement(SQLITE_DIALECT, { cursor }, 10), /made for sort=count order=desc/);
  assert.throws(() => listStatement(SQLITE_DIALECT, { cursor, sort: 'count', order: 'asc' }, 10), UsageError);
  // The default sort's cursor keeps the two-element form of the cursors handed out before sorting.
  const old = Buffer.from(JSON.stringify([1500, 'a1'])).toString('base64url');
  assert.equal(encodeCursor({ sort: 'last_seen', order: 'desc', value: 1500, id: 'a1' }), old);
});
