import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { csvField } from '../../src/cli/query.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const T0 = Date.parse('2018-03-24T17:00:00Z');
let lake = '';

before(async () => {
  lake = await mkdtemp(join(tmpdir(), 'socstream-cli-query-'));
  await writeLake(lake, [[...manyEnvelopes('dns', 30, T0, 60_000), ...manyEnvelopes('ssh', 4, T0, 1000)]]);
});
after(() => rm(lake, { recursive: true, force: true }));

function socstream(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
}

test('query --format json prints row objects', () => {
  const r = socstream(
    'query',
    'select log_type, count(*) as n from events group by 1 order by 1',
    '--lake',
    lake,
    '--format',
    'json',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    { log_type: 'dns', n: 30 },
    { log_type: 'ssh', n: 4 },
  ]);
});

test('query --format csv quotes per RFC 4180; table is the default', () => {
  const csv = socstream('query', `select 'a,b' as x, 2 as y`, '--lake', lake, '--format', 'csv');
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(csv.stdout, 'x,y\r\n"a,b",2\r\n');
  const table = socstream('query', 'select count(*) as n from ssh', '--lake', lake);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^n\n-+\n\s*4\n\(1 row\)\n$/);
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
});

test('bad SQL, a view the lake lacks and a bad --format exit 2 with a usage error; a corrupt file exits 1', () => {
  // Bad SQL is the user's mistake: DuckDB's message with where it is, one usage error, no stack.
  const cases: Array<[string, RegExp]> = [
    [
      'select * from events where',
      /^socstream: SOC_USAGE: bad SQL: Parser Error: syntax error at end of input\n$/,
    ],
    [
      'select 1; selec 2',
      /^socstream: SOC_USAGE: bad SQL: Parser Error: syntax error at or near "selec"\nLINE 1: /,
    ],
    ['select no_such_column from dns', /^socstream: SOC_USAGE: bad SQL: Binder Error: .*no_such_column/],
    ['select no_such_function(1)', /^socstream: SOC_USAGE: bad SQL: Catalog Error: .*no_such_function/],
    ["select cast('x' as int)", /^socstream: SOC_USAGE: bad SQL: Conversion Error: /],
    ['  ', /^socstream: SOC_USAGE: no SQL statement given\n$/],
  ];
  for (const [sql, expected] of cases) {
    const bad = socstream('query', sql, '--lake', lake);
    assert.equal(bad.status, 2, `${sql}: ${bad.stderr}`);
    assert.match(bad.stderr, expected);
    assert.doesNotMatch(bad.stderr, /\n\s+at |query failed/, 'no stack, no wrapper');
    assert.equal(bad.stdout, '');
  }
  // Not the SQL's fault: a file that is not Parquet is a runtime failure (exit 1), as before.
  const corrupt = socstream('query', `select * from read_parquet('${MAIN}')`, '--lake', lake);
  assert.equal(corrupt.status, 1, corrupt.stderr);
  assert.match(corrupt.stderr, /^socstream: SOC_QUERY_REJECTED: query failed: /);
  // Not DuckDB's "Did you mean pg_attrdef?": the views the lake has.
  const view = socstream('query', 'select * from auth', '--lake', lake);
  assert.equal(view.status, 2);
  assert.equal(
    view.stderr,
    `socstream: SOC_USAGE: no view "auth": the lake ${lake} has the views dns, ssh, events\n`,
  );
  const usage = socstream('query', 'select 1', '--lake', lake, '--format', 'xml');
  assert.equal(usage.status, 2);
});

test('lake compact and lake retention print what they did', () => {
  // Each closed hour written by the writer is compacted once (deduplicated, marked compact)…
  const compact = socstream('lake', 'compact', '--lake', lake);
  assert.equal(compact.status, 0, compact.stderr);
  const first = JSON.parse(compact.stdout);
  assert.ok(first.partitions > 0);
  assert.equal(first.duplicatesDropped, 0);
  // …and then left alone.
  const again = socstream('lake', 'compact', '--lake', lake);
  assert.equal(JSON.parse(again.stdout).partitions, 0);
  assert.equal(socstream('lake', 'compact', '--lake', lake, '--memory-mb', 'x').status, 2);
  const retention = socstream('lake', 'retention', '--days', '36500', '--lake', lake);
  assert.equal(retention.status, 0, retention.stderr);
  assert.equal(JSON.parse(retention.stdout).partitionsDropped, 0);
  const missing = socstream('lake', 'retention', '--lake', lake);
  assert.equal(missing.status, 2);
});

test('every lake command answers a missing lake the same way: SOC_USAGE naming it, exit 2, no stack', () => {
  const gone = join(lake, 'no-such-lake');
  const runs = [
    socstream('query', 'select 1 from auth', '--lake', gone),
    socstream('hunt', '--rules', 'rules', '--lake', gone),
    socstream('lake', 'compact', '--lake', gone),
    socstream('lake', 'retention', '--days', '3', '--lake', gone),
  ];
  for (const r of runs) {
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr,
      `socstream: SOC_USAGE: --lake ${gone}: the lake is missing (no such file or directory); give the lake root that \`socstream run\` writes (lake.dir in the config)\n`,
    );
  }
});
