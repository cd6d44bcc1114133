import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bearer, type Fixture, startFixture } from './helpers.ts';

/** POST /api/query: admin SQL over the lake views only, in DuckDB's locked-down mode. */
let f: Fixture;
before(async () => {
  f = await startFixture({ query_max_rows: 25, query_timeout_ms: 300 });
});
after(() => f.close());

async function query(sql: string, extra: Record<string, unknown> = {}) {
  const res = await f.app.inject({
    method: 'POST',
    url: '/api/query',
    headers: bearer('admin'),
    payload: { sql, ...extra },
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

test('a SELECT over the lake views answers columns and rows, capped at query_max_rows', async () => {
  const counts = await query('SELECT log_type, count(*) AS n FROM events GROUP BY ALL ORDER BY log_type');
  assert.equal(counts.status, 200);
  assert.deepEqual(
    (counts.body.columns as Array<{ name: string }>).map((c) => c.name),
    ['log_type', 'n'],
  );
  assert.deepEqual(counts.body.rows, [
    ['dns', 40],
    ['ssh', 10],
  ]);
  const capped = await query('SELECT id FROM dns');
  assert.equal((capped.body.rows as unknown[]).length, 25);
  assert.equal(capped.body.truncated, true);
  const fewer = await query('SELECT id FROM dns', { max_rows: 5 });
  assert.equal((fewer.body.rows as unknown[]).length, 5);
});

const REFUSED: Array<[string, string]> = [
  ['read_csv of /etc/passwd', "SELECT * FROM read_csv('/etc/passwd')"],
  ['read_csv_auto of /etc/passwd', "SELECT * FROM read_csv_auto('/etc/passwd', header=false)"],
  ['read_text of /etc/passwd', "SELECT * FROM read_text('/etc/passwd')"],
  ['a bare file path', "SELECT * FROM '/etc/passwd'"],
  ['parquet outside the lake', "SELECT * FROM read_parquet('/tmp/*.parquet')"],
  ['glob of the file system', "SELECT * FROM glob('/etc/*')"],
  ['ATTACH', "ATTACH '/tmp/socstream-evil.duckdb' AS evil"],
  ['ATTACH through a SELECT first', "SELECT 1; ATTACH ':memory:' AS m"],
  ['COPY TO', "COPY (SELECT * FROM events) TO '/tmp/socstream-exfil.csv'"],
  ['INSTALL', 'INSTALL httpfs'],
  ['LOAD', 'LOAD httpfs'],
  ['FORCE INSTALL', 'FORCE INSTALL spatial'],
  ['unlocking by SET', 'SET enable_external_access = true'],
  ['resetting the lock', 'RESET lock_configuration'],
  ['an http read', "SELECT * FROM read_csv('https://example.com/x.csv')"],
  ['creating a table', 'CREATE TABLE t AS SELECT 1'],
  ['dropping a view', 'DROP VIEW events'],
  ['two statements', 'SELECT 1; SELECT 2'],
];

for (const [name, sql] of REFUSED) {
  test(`the sandbox refuses ${name}`, async () => {
    const res = await query(sql);
    assert.equal(res.status, 400, `${sql} → ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'SOC_QUERY_REJECTED');
    assert.doesNotMatch(JSON.stringify(res.body), /root:x?:0:0/);
  });
}

test('nothing was written by the refused statements and the views are intact', async () => {
  assert.equal(existsSync('/tmp/socstream-exfil.csv'), false);
  assert.equal(existsSync('/tmp/socstream-evil.duckdb'), false);
  const n = await query('SELECT count(*) AS n FROM events');
  assert.deepEqual(n.body.rows, [[50]]);
});

test('a file dropped next to the lake is still not readable', async () => {
  const secret = join(f.dir, 'secret.csv');
  writeFileSync(secret, 'password\nhunter2\n');
  const res = await query(`SELECT * FROM read_csv('${secret}')`);
  assert.equal(res.status, 400);
  assert.doesNotMatch(JSON.stringify(res.body), /hunter2/);
});

test('a query running past query_timeout_ms is interrupted', async () => {
  const res = await query('SELECT count(*) FROM range(1000000000000) a');
  assert.equal(res.status, 400);
  assert.match(String(res.body.error), /timed out after 300 ms/);
});
