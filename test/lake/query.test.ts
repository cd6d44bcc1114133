import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { QueryRejectedError } from '../../src/core/errors.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { buildLakeSchema, NORMALIZED_FIELDS } from '../../src/sinks/parquet/schema.ts';
import { LakeWriter } from '../../src/sinks/parquet/writer.ts';
import { manyEnvelopes } from './envelopes.ts';
import { writeLake } from './helpers.ts';

const T0 = Date.parse('2018-03-24T17:00:00Z');
let lakeDir = '';
let outside = '';

/** A lake with dns over two hours (60 + 40 events) and ssh in one (10 events). */
before(async () => {
  lakeDir = await mkdtemp(join(tmpdir(), 'socstream-query-'));
  outside = await mkdtemp(join(tmpdir(), 'socstream-outside-'));
  await writeFile(join(outside, 'secret.csv'), 'a,b\n1,2\n');
  await writeLake(lakeDir, [
    [...manyEnvelopes('dns', 100, T0, 60_000), ...manyEnvelopes('ssh', 10, T0, 1000)],
  ]);
});

after(async () => {
  await rm(lakeDir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('lake views', () => {
  test('one view per log type directory plus events over all of them', async () => {
    const lake = await LakeQuery.open({ lakeDir });
    try {
      assert.deepEqual(lake.views(), ['dns', 'ssh', 'events']);
      const dns = await lake.query('select count(*) as n from dns');
      assert.deepEqual(dns.rows, [[100]]);
      const all = await lake.query(
        'select log_type, count(*) from events group by log_type order by log_type',
      );
      assert.deepEqual(all.rows, [
        ['dns', 100],
        ['ssh', 10],
      ]);
      assert.deepEqual(
        all.columns.map((c) => c.name),
        ['log_type', 'count_star()'],
      );
    } finally {
      lake.close();
    }
  });

  test('partition columns year/month/day/hour come from the directory names', async () => {
    const lake = await LakeQuery.open({ lakeDir });
    try {
      const r = await lake.query(
        'select year, month, day, hour, count(*) from dns group by all order by hour',
      );
      assert.deepEqual(r.rows, [
        [2018, 3, 24, 17, 60],
        [2018, 3, 24, 18, 40],
      ]);
      const t = await lake.query(
        "select count(*) from dns where event_time >= TIMESTAMP '2018-03-24 18:00:00'",
      );
      assert.deepEqual(t.rows, [[40]]);
    } finally {
      lake.close();
    }
  });

  test('an hour filter prunes partitions: a broken file in another hour is never opened', async () => {
    // hour=23 sorts after the good file: DuckDB takes the view's schema from the first file.
    const brokenDir = join(lakeDir, 'ssh', 'year=2018', 'month=03', 'day=24', 'hour=23');
    await mkdir(brokenDir, { recursive: true });
    await writeFile(join(brokenDir, 'events_ssh_broken.parquet'), 'this is not parquet');
    try {
      const lake = await LakeQuery.open({ lakeDir });
      await assert.rejects(lake.query('select count(*) from ssh'), QueryRejectedError);
      const pruned = await lake.query('select count(*) from ssh where hour = 17');
      assert.deepEqual(pruned.rows, [[10]]);
      const byDay = await lake.query(
        'select count(*) from ssh where year = 2018 and month = 3 and day = 24 and hour < 20',
      );
      assert.deepEqual(byDay.rows, [[10]]);
      lake.close();
    } finally {
      await rm(brokenDir, { recursive: true, force: true });
    }
  });

  test('a log type whose first file is unreadable loses its view, not the whole lake', async () => {
    const brokenDir = join(lakeDir, 'weird', 'year=2018', 'month=03', 'day=24', 'hour=17');
    await mkdir(brokenDir, { recursive: true });
    await writeFile(join(brokenDir, 'events_weird_1.parquet'), 'not parquet');
    try {
      const lake = await LakeQuery.open({ lakeDir, locked: true });
      try {
        // events binds from its first file (a dns one) and fails only when a query reaches the bad file.
        assert.deepEqual(lake.views(), ['dns', 'ssh', 'events']);
        assert.deepEqual(
          lake.problems().map((p) => p.view),
          ['weird'],
        );
        await assert.rejects(lake.query('select count(*) from events'), QueryRejectedError);
        assert.deepEqual((await lake.query('select count(*) from dns')).rows, [[100]]);
      } finally {
        lake.close();
      }
    } finally {
      await rm(join(lakeDir, 'weird'), { recursive: true, force: true });
    }
  });

  test('maxRows cuts the result and says so', async () => {
    const lake = await LakeQuery.open({ lakeDir });
    try {
      const r = await lake.query('select id from dns', { maxRows: 7 });
      assert.equal(r.rows.length, 7);
      assert.equal(r.truncated, true);
      const all = await lake.query('select id from ssh', { maxRows: 7000 });
      assert.equal(all.truncated, false);
      assert.equal(all.rows.length, 10);
    } finally {
      lake.close();
    }
  });

  test('a query running past its timeout is interrupted', async () => {
    const lake = await LakeQuery.open({ lakeDir, locked: true });
    try {
      await assert.rejects(
        lake.query('select count(*) from range(100000000000) a', { timeoutMs: 200 }),
        (err: Error) => err instanceof QueryRejectedError && /timed out/.test(err.message),
      );
    } finally {
      lake.close();
    }
  });

  test('an empty lake has no views and says so instead of failing to open', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'socstream-empty-'));
    const lake = await LakeQuery.open({ lakeDir: empty, locked: true });
    try {
      assert.deepEqual(lake.views(), []);
      await assert.rejects(lake.query('select * from events'), QueryRejectedError);
    } finally {
      lake.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('locked mode (the API sandbox)', () => {
  let lake: LakeQuery;
  before(async () => {
    lake = await LakeQuery.open({ lakeDir, locked: true });
  });
  after(() => lake.close());

  test('SELECT and WITH over the views still work', async () => {
    assert.deepEqual((await lake.query('select count(*) from ssh')).rows, [[10]]);
    const r = await lake.query('with h as (select hour from dns) select count(*) from h where hour = 18');
    assert.deepEqual(r.rows, [[40]]);
  });

  const refused: Array<[string, () => string]> = [
    ['read_csv of /etc/passwd', () => "select * from read_csv('/etc/passwd')"],
    [
      'a path escaping the lake with ..',
      () => `select * from read_csv('${lakeDir}/../${outside.split('/').pop()}/secret.csv')`,
    ],
    ['a file outside the lake', () => `select * from read_csv('${outside}/secret.csv')`],
    ['glob of the root', () => "select * from glob('/*')"],
    ['COPY TO outside the lake', () => `copy dns to '${outside}/out.csv'`],
    ['COPY TO inside the lake', () => `copy dns to '${lakeDir}/out.csv'`],
    ['COPY (SELECT) TO', () => `copy (select * from dns) to '${lakeDir}/x.parquet' (format parquet)`],
    ['ATTACH', () => `attach '${outside}/x.db' as x`],
    ['INSTALL', () => 'install httpfs'],
    ['LOAD', () => 'load httpfs'],
    ['SET that would undo the lock', () => 'set enable_external_access = true'],
    ['two statements', () => 'select 1; select 2'],
    ['CREATE', () => 'create table t as select 1'],
    ['a SELECT hiding a second statement', () => "select 1; copy dns to '/tmp/x.csv'"],
  ];
  for (const [what, sql] of refused) {
    test(`refuses ${what}`, async () => {
      await assert.rejects(lake.query(sql()), QueryRejectedError);
    });
  }

  test('the refusals left no file behind', async () => {
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(outside)).sort(), ['secret.csv']);
    assert.equal((await readdir(lakeDir)).includes('out.csv'), false);
  });
});

describe('lakes whose files differ in columns', () => {
  test('two recorded layouts (the dictionary grew): views merge by name automatically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socstream-layouts-'));
    try {
      const logger = pino({ level: 'silent' });
      const options = {
        dir,
        flushBufferBytes: 0,
        flushEventCount: 0,
        flushIntervalMs: 0,
        maxPendingFlushes: 1,
        typedRawColumns: false,
        logger,
      };
      // The current layout writes first, so the first file has columns the older one lacks.
      const current = new LakeWriter(options);
      await current.start();
      const a = current.write(manyEnvelopes('ssh', 3, T0, 1000, 'new'));
      await current.flush();
      await a;
      await current.stop();
      const older = new LakeWriter(options, buildLakeSchema(NORMALIZED_FIELDS.slice(0, 8), []));
      await older.start();
      const b = older.write(manyEnvelopes('ssh', 2, T0, 1000, 'old'));
      await older.flush();
      await b;
      await older.stop();
      const lake = await LakeQuery.open({ lakeDir: dir, locked: true });
      try {
        assert.equal(lake.unionByName, true);
        assert.deepEqual((await lake.query('select count(*), count(direction) from ssh')).rows, [[5, 3]]);
      } finally {
        lake.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('typed raw columns: the raw_* columns are queryable across files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socstream-typed-'));
    try {
      const writer = new LakeWriter({
        dir,
        flushBufferBytes: 0,
        flushEventCount: 0,
        flushIntervalMs: 0,
        maxPendingFlushes: 1,
        typedRawColumns: true,
        logger: pino({ level: 'silent' }),
      });
      await writer.start();
      for (const seed of ['t1', 't2']) {
        const done = writer.write(manyEnvelopes('ssh', 4, T0, 1000, seed));
        await writer.flush();
        await done;
      }
      await writer.stop();
      const lake = await LakeQuery.open({ lakeDir: dir });
      try {
        assert.equal(lake.unionByName, true);
        // The first four WRCCDC ssh records: three successful logins, all to port 22; written twice.
        const r = await lake.query('select count(*) from ssh where raw_auth_success and raw_id_resp_p = 22');
        assert.deepEqual(r.rows, [[6]]);
        const types = await lake.query(
          "select data_type from information_schema.columns where table_name = 'ssh' and column_name = 'raw_auth_attempts'",
        );
        assert.deepEqual(types.rows, [['BIGINT']]);
      } finally {
        lake.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a lake written with one layout keeps pruning (no merge by name)', async () => {
    const lake = await LakeQuery.open({ lakeDir });
    try {
      assert.equal(lake.unionByName, false);
    } finally {
      lake.close();
    }
  });
});
