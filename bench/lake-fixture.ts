/**
 * Big lakes for the lake benches, made fast: the generator's `mixed` scenario goes once through
 * the real engine and the real LakeWriter (a template of real envelopes in the lake's own Parquet
 * layout), then DuckDB multiplies the template into hour partitions — new ids, event times spread
 * over each hour — so the files are exactly what the writer and the compactor make, at millions
 * of rows a minute instead of thousands a second.
 *
 * - `bigHour`: one hour partition of one log type as the writer leaves it before compaction: many
 *   small files (`events_<type>_<unique>.parquet`), a share of the rows replayed into other files
 *   (duplicate ids).
 * - `weekLake`: a lake of whole closed hours as the compactor leaves them (one
 *   `events_<type>_<run>-0of1_c.parquet` per log type and hour, and its rollup written with the
 *   compactor's own statement, then the closed days' rollups made by a compactor run), plus an
 *   open hour of writer files (what a running pipeline has).
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '../src/core/logger.ts';
import { sqlString } from '../src/core/sql.ts';
import { compactLake } from '../src/lake/compact.ts';
import { hourRollupName, ROLLUPS_DIR, rollupSql } from '../src/lake/rollup.ts';
import { LakeWriter } from '../src/sinks/parquet/writer.ts';
import { mixedEnvelopes } from './lake.bench.ts';

export const HOUR_MS = 3_600_000;
const silent = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

export interface Template {
  db: DuckDBInstance;
  connection: DuckDBConnection;
  /** Template rows per log type. */
  counts: Map<string, number>;
  close(): void;
}

/** `events` mixed envelopes through the real writer, loaded into DuckDB table `tpl` (with `rn` per log type). */
export async function loadTemplate(workDir: string, events: number, memoryLimitMb = 1024): Promise<Template> {
  const tplDir = join(workDir, 'template');
  rmSync(tplDir, { recursive: true, force: true });
  const writer = new LakeWriter({
    dir: tplDir,
    flushBufferBytes: 0,
    flushEventCount: 0,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    duckdbMemoryLimitMb: 512,
    duckdbThreads: 1,
    logger: silent,
  });
  await writer.start();
  const envelopes = mixedEnvelopes(events);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < envelopes.length; i += 5000) pending.push(writer.write(envelopes.slice(i, i + 5000)));
  await writer.flush();
  await Promise.all(pending);
  await writer.stop();
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: `${memoryLimitMb}MB`,
    preserve_insertion_order: 'false',
  });
  const connection = await db.connect();
  const glob = sqlString(join(tplDir, '**', '*.parquet'));
  await connection.run(
    `CREATE TABLE tpl AS SELECT *, (row_number() OVER (PARTITION BY log_type ORDER BY id) - 1)::BIGINT AS rn ` +
      `FROM read_parquet(${glob}, union_by_name = true, hive_partitioning = false)`,
  );
  const reader = await connection.runAndReadAll('SELECT log_type, count(*)::BIGINT FROM tpl GROUP BY ALL');
  const counts = new Map(reader.getRows().map(([t, n]) => [String(t), Number(n)]));
  rmSync(tplDir, { recursive: true, force: true });
  return {
    db,
    connection,
    counts,
    close() {
      connection.closeSync();
      db.closeSync();
    },
  };
}

export function hourDir(lakeDir: string, logType: string, hourMs: number): string {
  const iso = new Date(hourMs).toISOString();
  return join(
    lakeDir,
    logType,
    `year=${iso.slice(0, 4)}`,
    `month=${iso.slice(5, 7)}`,
    `day=${iso.slice(8, 10)}`,
    `hour=${iso.slice(11, 13)}`,
  );
}

/**
 * `copies` × the template rows of `logType`, ids made unique per (tag, copy), event times spread
 * over [hourMs, hourMs + 1 h) (ingest_time a second later), as a SELECT with the lake's columns.
 */
function expandSql(logType: string, n: number, copies: number, hourMs: number, tag: string): string {
  const total = n * copies;
  // A fixed permutation of the hour: row r of copy k lands at ((k·n + r) · 3600000 / total) ms.
  const offset = `((k * ${n} + rn) * ${HOUR_MS} // ${total})`;
  const time = `epoch_ms(${hourMs} + ${offset})`;
  return (
    `SELECT * EXCLUDE (rn, k) REPLACE (id || '-${tag}-' || k AS id, ${time}::TIMESTAMP AS event_time, ` +
    `(${time} + INTERVAL 1 second)::TIMESTAMP AS ingest_time) ` +
    `FROM tpl, range(${copies}) c(k) WHERE log_type = ${sqlString(logType)}`
  );
}

const PARQUET = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1';

/**
 * One hour partition of `logType` as the writer leaves it: about `rows` rows in files of
 * `rowsPerFile`, and `duplicateShare` of the rows written a second time into files of their own
 * (a replayed batch). Returns the partition directory and the distinct ids written.
 */
export async function bigHour(
  t: Template,
  lakeDir: string,
  options: { logType: string; hourMs: number; rows: number; rowsPerFile: number; duplicateShare: number },
): Promise<{ dir: string; rows: number; distinct: number; files: number }> {
  const n = t.counts.get(options.logType);
  if (!n) throw new Error(`template has no ${options.logType} rows`);
  const copies = Math.max(1, Math.round(options.rows / n));
  const dir = hourDir(lakeDir, options.logType, options.hourMs);
  mkdirSync(dir, { recursive: true });
  const tmp = join(lakeDir, '.fixture-tmp');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const select = expandSql(options.logType, n, copies, options.hourMs, 'big');
  await t.connection.run(
    `COPY (${select}) TO ${sqlString(join(tmp, 'a'))} (${PARQUET}, ROW_GROUP_SIZE ${options.rowsPerFile}, ` +
      `ROW_GROUPS_PER_FILE 1, FILENAME_PATTERN 'events_${options.logType}_1_a_{i}')`,
  );
  const dupEvery = Math.max(1, Math.round(1 / Math.max(options.duplicateShare, 1e-9)));
  if (options.duplicateShare > 0)
    await t.connection.run(
      `COPY (SELECT * FROM (${select}) WHERE hash(id) % ${dupEvery} = 0) TO ${sqlString(join(tmp, 'b'))} ` +
        `(${PARQUET}, ROW_GROUP_SIZE ${options.rowsPerFile}, ROW_GROUPS_PER_FILE 1, FILENAME_PATTERN 'events_${options.logType}_2_b_{i}')`,
    );
  let files = 0;
  for (const sub of ['a', 'b']) {
    const from = join(tmp, sub);
    for (const name of readdirSync(from, { recursive: false }).map(String)) {
      renameSync(join(from, name), join(dir, name));
      files++;
    }
    if (options.duplicateShare <= 0) break;
  }
  rmSync(tmp, { recursive: true, force: true });
  const reader = await t.connection.runAndReadAll(
    `SELECT count(*)::BIGINT, count(DISTINCT id)::BIGINT FROM read_parquet(${sqlString(join(dir, '*.parquet'))})`,
  );
  const [rows, distinct] = reader.getRows()[0].map(Number);
  return { dir, rows, distinct, files };
}

/**
 * A lake of `hours` closed hours ending at `endHourMs` (exclusive), `copies` × the template per
 * hour, as compaction leaves it (one file per log type and hour + its rollup), and the open hour
 * `endHourMs` as writer files (`openFiles` per log type, one template copy). Returns the rows written.
 */
export async function weekLake(
  t: Template,
  lakeDir: string,
  options: {
    hours: number;
    endHourMs: number;
    copies: number;
    openFiles: number;
    onHour?: (i: number) => void;
  },
): Promise<{ rows: number; files: number }> {
  let rows = 0;
  let files = 0;
  const types = [...t.counts.keys()].sort();
  for (let i = 0; i < options.hours; i++) {
    const hourMs = options.endHourMs - (options.hours - i) * HOUR_MS;
    for (const type of types) {
      const n = t.counts.get(type) ?? 0;
      const dir = hourDir(lakeDir, type, hourMs);
      mkdirSync(dir, { recursive: true });
      const run = `${hourMs}_${(i % 4096).toString(16).padStart(3, '0')}f`;
      const file = join(dir, `events_${type}_${run}-0of1_c.parquet`);
      await t.connection.run(
        `COPY (${expandSql(type, n, options.copies, hourMs, `h${i}`)}) TO ${sqlString(file)} (${PARQUET}, ROW_GROUP_SIZE_BYTES '16MB')`,
      );
      const rollupDir = join(lakeDir, ROLLUPS_DIR, relative(lakeDir, dir));
      mkdirSync(rollupDir, { recursive: true });
      await t.connection.run(
        `COPY (${rollupSql(`read_parquet(${sqlString(file)})`)}) TO ${sqlString(join(rollupDir, hourRollupName(run)))} (FORMAT parquet, COMPRESSION zstd)`,
      );
      rows += n * options.copies;
      files++;
    }
    options.onHour?.(i);
  }
  // The open hour: writer files (not compacted, no rollup), one template copy spread over its files.
  for (const type of types) {
    const n = t.counts.get(type) ?? 0;
    const dir = hourDir(lakeDir, type, options.endHourMs);
    mkdirSync(dir, { recursive: true });
    const tmp = join(lakeDir, '.fixture-tmp');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(lakeDir, { recursive: true });
    await t.connection.run(
      `COPY (${expandSql(type, n, 1, options.endHourMs, 'open')}) TO ${sqlString(tmp)} (${PARQUET}, ` +
        `ROW_GROUP_SIZE ${Math.max(1, Math.ceil(n / options.openFiles))}, ROW_GROUPS_PER_FILE 1, FILENAME_PATTERN 'events_${type}_9_open_{i}')`,
    );
    for (const name of readdirSync(tmp).map(String)) {
      renameSync(join(tmp, name), join(dir, name));
      files++;
    }
    rmSync(tmp, { recursive: true, force: true });
    rows += n;
  }
  await closedDayRollups(lakeDir, options.endHourMs);
  return { rows, files };
}

/**
 * What the compactor adds to a lake whose hours are compacted, as of half-way through the open
 * hour `endHourMs`: the hour rollups it lacks (hours of an older rollup version) and the day
 * and span rollups (days, hours) of the closed spans — the compactor's own run (compactLake), the
 * open hour left alone.
 */
export async function closedDayRollups(
  lakeDir: string,
  endHourMs: number,
): Promise<{ hourRollups: number; dayRollups: number; spanHourRollups: number }> {
  const stats = await compactLake({ lakeDir, nowMs: endHourMs + HOUR_MS / 2, openHourMaxFiles: 0 });
  return {
    hourRollups: stats.hourRollups,
    dayRollups: stats.dayRollups,
    spanHourRollups: stats.spanHourRollups,
  };
}
