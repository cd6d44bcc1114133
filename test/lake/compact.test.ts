import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../../src/core/sql.ts';
import {
  compactLake,
  dedupedSource,
  dedupSql,
  FILES_PER_STATEMENT,
  fileGroups,
  hourPartitions,
} from '../../src/lake/compact.ts';
import { compactInChild } from '../../src/lake/compact-process.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { manyEnvelopes } from './envelopes.ts';
import { writeLake } from './helpers.ts';
import { readParquetRows } from './read-parquet.ts';

const T0 = Date.parse('2018-03-24T17:00:00Z');
let dir = '';
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function count(lakeDir: string, sql: string): Promise<unknown> {
  const lake = await LakeQuery.open({ lakeDir });
  try {
    return (await lake.query(sql)).rows[0][0];
  } finally {
    lake.close();
  }
}

/** Rewrites the lake's only Parquet file with every row twice (temp file + rename). */
async function doubleRowsInPlace(lakeDir: string): Promise<void> {
  const [file] = (await readdir(lakeDir, { recursive: true })).filter((n) => n.endsWith('.parquet'));
  const path = join(lakeDir, file);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = `read_parquet(${sqlString(path)})`;
    await connection.run(
      `COPY (SELECT * FROM ${source} UNION ALL SELECT * FROM ${source}) TO ${sqlString(`${path}.tmp`)} (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await rename(`${path}.tmp`, path);
}

async function parquetIn(partition: string): Promise<string[]> {
  return (await readdir(partition)).filter((n) => n.endsWith('.parquet'));
}

test('compact merges each partition into one file and drops duplicate ids', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  const a = manyEnvelopes('dns', 120, T0, 60_000, 'a'); // 17:00–18:59 → two hours
  const b = manyEnvelopes('dns', 30, T0, 60_000, 'b'); // 17:00–17:29
  // `a` twice: a replayed, uncommitted batch.
  await writeLake(dir, [a, a, b]);
  assert.equal(await count(dir, 'select count(*) from dns'), 270);
  const stats = await compactLake({ lakeDir: dir });
  assert.equal(stats.partitions, 2);
  assert.equal(stats.filesBefore, 5);
  assert.equal(stats.filesAfter, 2);
  assert.equal(stats.duplicatesDropped, 120);
  assert.equal(await count(dir, 'select count(*) from dns'), 150);
  assert.equal(await count(dir, 'select count(distinct id) from dns'), 150);
  for (const { dir: partition } of await hourPartitions(dir)) {
    const files = await parquetIn(partition);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events_dns_\w+-0of1_c\.parquet$/);
    // Still readable by an independent reader, one row per id.
    const rows = await readParquetRows(join(partition, files[0]));
    const ids = rows.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
  }
  // Compacting again changes nothing: one file per partition is already compact.
  const again = await compactLake({ lakeDir: dir });
  assert.equal(again.partitions, 0);
});

test('a crash between rename and delete leaves duplicates, never loss; the next compaction removes them', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  await writeLake(dir, [
    manyEnvelopes('ssh', 40, T0, 1000, 'x'),
    manyEnvelopes('ssh', 40, T0 + 40_000, 1000, 'y'),
  ]);
  await compactLake({ lakeDir: dir });
  const [{ dir: partition }] = await hourPartitions(dir);
  const [merged] = await parquetIn(partition);
  // The state a crash after the rename leaves: the merged file next to inputs holding the same rows.
  await copyFile(join(partition, merged), join(partition, 'events_ssh_1_old1.parquet'));
  await copyFile(join(partition, merged), join(partition, 'events_ssh_1_old2.parquet'));
  // …and a temp file of an interrupted compaction (readers ignore it).
  await writeFile(join(partition, '.events_ssh_9_partial.parquet.tmp'), 'partial');
  assert.equal(await count(dir, 'select count(*) from ssh'), 240);
  const stats = await compactLake({ lakeDir: dir, staleTempMs: 0 });
  assert.equal(stats.duplicatesDropped, 160);
  assert.equal(stats.staleTempsRemoved, 1);
  assert.equal(await count(dir, 'select count(*) from ssh'), 80);
  assert.deepEqual((await readdir(partition)).length, 1);
});

test('by default a closed hour that is a single file is deduplicated too (duplicates inside one file)', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  const e = manyEnvelopes('ssl', 10, T0, 1000);
  await writeLake(dir, [e]);
  // The writer keeps one row per id in a file; a file from an older writer (or another producer)
  // may hold a replayed id twice: made here by rewriting the file with its rows twice.
  await doubleRowsInPlace(dir);
  assert.equal(await count(dir, 'select count(*) from ssl'), 20);
  assert.equal((await compactLake({ lakeDir: dir })).duplicatesDropped, 10);
  assert.equal(await count(dir, 'select count(*) from ssl'), 10);
  // Its output is one complete run: nothing more to do.
  assert.equal((await compactLake({ lakeDir: dir })).partitions, 0);
});

/**
 * `copies` files in the hour of `source`, each with the source's rows under ids of its own group
 * (file k holds group k % groups): every id is in copies / groups files. `extra`: the last file
 * has ids of its own and one more column (a file of another layout).
 */
async function multiplyFile(source: string, copies: number, groups: number, extra = false): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (let k = 0; k < copies; k++) {
      const last = extra && k === copies - 1;
      const more = last ? `, 'late' AS zz_extra` : '';
      await connection.run(
        `COPY (SELECT * REPLACE (id || '-g${last ? 'x' : k % groups}' AS id)${more} FROM read_parquet(${sqlString(source)})) ` +
          `TO ${sqlString(source.replace(/\.parquet$/, `_copy${k}.parquet`))} (FORMAT parquet)`,
      );
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await rm(source);
}

test('an hour of more files than one statement reads is compacted by the child process, every id once', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  await writeLake(dir, [manyEnvelopes('ssl', 40, T0, 1000)]);
  const [file] = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.parquet'));
  // 200 files (more than FILES_PER_STATEMENT: staged), each id in two of them (files k and k + 100).
  await multiplyFile(join(dir, file), 200, 100);
  assert.ok(200 > FILES_PER_STATEMENT);
  // At most 1,500 rows a file: stage files of 37 inputs (1,480 rows), one output file each; the
  // duplicates sit in different output files and are still removed.
  const stats = await compactInChild({ lakeDir: dir, rowsPerOutput: 1_500 });
  assert.equal(stats.filesBefore, 200);
  assert.equal(stats.filesAfter, 6);
  assert.equal(stats.rowsBefore, 8_000);
  assert.equal(stats.rowsAfter, 4_000);
  assert.equal(stats.duplicatesDropped, 4_000);
  assert.ok(stats.maxRssBytes > 0, 'the child reports its peak memory');
  const [partition] = await hourPartitions(dir);
  const names = await readdir(partition.dir);
  assert.equal(names.length, 6, 'no stage or temp file left');
  for (const n of names) assert.match(n, /^events_ssl_\w+-[0-5]of6_c\.parquet$/);
  assert.equal(await count(dir, 'select count(*) from ssl'), 4_000);
  assert.equal(await count(dir, 'select count(distinct id) from ssl'), 4_000);
  // The six files are one complete run: nothing more to do.
  assert.equal((await compactLake({ lakeDir: dir })).partitions, 0);
  // The hour's rollup, made from the parts, counts the 4,000 events and their top addresses.
  const rollups = (await readdir(join(dir, '.rollups'), { recursive: true })).filter((n) =>
    /rollup_v2_\w+\.parquet$/.test(n),
  );
  assert.equal(rollups.length, 1);
  const rows = await readParquetRows(join(dir, '.rollups', rollups[0]));
  assert.equal(
    rows.filter((r) => r.kind === 'minute').reduce((n, r) => n + Number(r.n), 0),
    4_000,
  );
  const topSrc = rows.filter((r) => r.kind === 'src').sort((a, b) => Number(b.n) - Number(a.n))[0];
  assert.equal(
    Number(topSrc.n),
    Number(await count(dir, 'select count(*) from ssl group by src_ip order by 1 desc limit 1')),
  );
});

test('a stopped compaction run ends (killed after its grace if need be) and loses nothing', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  await writeLake(dir, [manyEnvelopes('ssl', 40, T0, 1000)]);
  const [file] = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.parquet'));
  await multiplyFile(join(dir, file), 200, 100);
  const abort = new AbortController();
  const run = compactInChild({ lakeDir: dir, signal: abort.signal });
  setTimeout(() => abort.abort(), 300);
  // Either it finished its partition in time, or it was stopped: both settle.
  await run.then(
    (stats) => assert.ok(stats.partitions <= 1),
    (err: Error) => assert.match(err.message, /compaction process ended \((SIGTERM|SIGKILL|exit 1)\)/),
  );
  // Whatever it left (temp files, inputs beside an output), the next run ends with every id once.
  await compactLake({ lakeDir: dir, staleTempMs: 0 });
  assert.equal(await count(dir, 'select count(*) from ssl'), 4_000);
  assert.equal(await count(dir, 'select count(distinct id) from ssl'), 4_000);
});

test('files are grouped by rows and by count, a big file alone', () => {
  assert.deepEqual(fileGroups([10, 10, 10, 10], 25), [
    { offset: 0, count: 2 },
    { offset: 2, count: 2 },
  ]);
  assert.deepEqual(fileGroups([50, 10, 10], 25), [
    { offset: 0, count: 1 },
    { offset: 1, count: 2 },
  ]);
  assert.deepEqual(fileGroups([1, 1, 1, 1, 1], 100, 2), [
    { offset: 0, count: 2 },
    { offset: 2, count: 2 },
    { offset: 4, count: 1 },
  ]);
});

test('files of differing layouts in one hour are merged by column name', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compact-'));
  await writeLake(dir, [manyEnvelopes('dns', 30, T0, 1000)]);
  const [file] = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.parquet'));
  // 40 files: 39 with each id in about four of them, the last with ids of its own and one more column.
  await multiplyFile(join(dir, file), 40, 10, true);
  const stats = await compactLake({ lakeDir: dir });
  assert.equal(stats.filesAfter, 1);
  assert.equal(stats.rowsAfter, 330);
  assert.equal(await count(dir, 'select count(distinct id) from dns'), 330);
  const [partition] = await hourPartitions(dir);
  const [merged] = await parquetIn(partition.dir);
  const rows = await readParquetRows(join(partition.dir, merged));
  assert.ok('zz_extra' in rows[0], 'the extra column is kept');
  assert.equal(rows.filter((r) => r.zz_extra === 'late').length, 30);
});

test('dedup never sorts or DISTINCTs the wide rows: the key tables are narrow', () => {
  const statements = [...dedupSql('src'), dedupedSource('src')].join('\n');
  assert.doesNotMatch(statements, /DISTINCT ON|SELECT \* FROM src ORDER BY/);
  assert.match(statements, /SELECT hash\(id\) AS h FROM src GROUP BY h HAVING count\(\*\) > 1/);
  assert.match(statements, /ANTI JOIN drop_rows/);
});
