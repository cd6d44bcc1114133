import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SinkUnavailableError } from '../core/errors.ts';
import { sqlString } from '../core/sql.ts';
import { fsyncPath } from '../sinks/parquet/writer.ts';
import {
  completedRun,
  hourPartitions,
  isClosed,
  listPartition,
  type PartitionFile,
  partitionStartMs,
  STAGE_PREFIX,
} from './partitions.ts';
import { ROLLUP_COLUMNS, rollupFromParts, rollupSql } from './rollup.ts';
import { buildRollups, publishRollup, type RollupTarget, rollupTarget } from './rollup-build.ts';

export {
  completedRun,
  hourPartitions,
  isClosed,
  type PartitionFile,
  partitionStartMs,
} from './partitions.ts';

/**
 * Compaction of the lake's hour partitions (`socstream lake compact` and the background
 * compactor): the writer leaves one small file per flush; compaction merges them and drops
 * duplicate ids (at-least-once delivery writes a replayed batch twice; ids are deterministic, so
 * the copies are the same event) — also duplicates that sit inside one file.
 *
 * - A **closed** hour (ended `closeAfterMs` ago) is compacted until it holds only the output of
 *   one compaction run: `events_<type>_<run>-0of1_c.parquet`. Anything else in the directory (a
 *   writer file, a late event's file, the output of an older run, of an open-hour merge, or of a
 *   run that crashed half-way) makes it compact again, so a closed hour always ends as one
 *   deduplicated file. Its aggregates (rollup.ts) are written with it.
 * - The **open** hour is merged when it holds `openHourMaxFiles` files or more (files over 8 MiB
 *   are left alone), which bounds its file count; its dedup is completed when it closes.
 * - **Memory**: every statement reads at most 16 files (concatenations into hidden stage files
 *   first, as often as needed) and the dedup streams (dedupSql); DuckDB runs with one thread,
 *   `memory_limit` and a spill directory, so a big hour costs time and temp disk, not memory.
 * - **The swap**: outputs are written as temp files, fsynced, renamed, the directory fsynced,
 *   and only then the inputs deleted. A crash before the renames leaves temp files (readers
 *   glob `*.parquet`; swept after `staleTempMs`); a crash after leaves outputs next to inputs:
 *   duplicates, never loss, and the partition is compacted again. Files the writer adds
 *   meanwhile are not inputs and are not touched. A lock file (`.compacting`, O_EXCL) keeps two
 *   compactors (two processes sharing a lake) off the same partition.
 */
export interface CompactOptions {
  lakeDir: string;
  /** Clock (tests); default Date.now(). */
  nowMs?: number;
  /** An hour is closed this long after it ended (late events); default 5 min. */
  closeAfterMs?: number;
  /** Treat every hour as closed: dedupe the open hour now too (`lake compact --include-open-hours`). */
  includeOpenHours?: boolean;
  /** The open hour is merged at this many files; default 12. 0 leaves open hours alone. */
  openHourMaxFiles?: number;
  /** DuckDB memory_limit in MB; default 80 (it spills to the lake's disk beyond). */
  memoryLimitMb?: number;
  /** DuckDB threads; default 1 (background work, never more than one core). */
  threads?: number;
  /** Temp files and locks older than this are crash left-overs and deleted; default 10 min. */
  staleTempMs?: number;
  /** Rows of one output file at most (default ROWS_PER_OUTPUT); a bigger hour ends as several. */
  rowsPerOutput?: number;
  /** Stops between partitions (the compactor's stop()). */
  signal?: AbortSignal;
  /** Called after each partition compacted (metrics, logs). */
  onPartition?: (result: PartitionResult) => void;
}

export interface PartitionResult {
  logType: string;
  dir: string;
  closed: boolean;
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  durationMs: number;
}

export interface CompactStats {
  partitions: number;
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  duplicatesDropped: number;
  staleTempsRemoved: number;
  /** Partitions skipped because another compactor holds their lock. */
  locked: number;
  /** Hour rollups made for hours compacted before (rollup-build.ts), and day rollups made. */
  hourRollups: number;
  dayRollups: number;
  /** Hour files of all log types made (rollup.ts span rollups). */
  spanHourRollups: number;
}

export const COMPACT_DEFAULTS = {
  closeAfterMs: 5 * 60_000,
  openHourMaxFiles: 12,
  memoryLimitMb: 80,
  threads: 1,
  staleTempMs: 10 * 60_000,
  rowsPerOutput: 1_500_000,
} as const;

const HOUR_MS = 3_600_000;
/**
 * Files one statement reads at most. DuckDB keeps some state per file a statement has opened
 * (measured: a COPY of 246 files of one layout peaked at 178 MB RSS, of 1,495 files at 278 MB);
 * an hour with more files is first concatenated into hidden stage files, this many at a time.
 */
export const FILES_PER_STATEMENT = 128;
/** Files of differing layouts (union_by_name reads and keeps every footer) one statement reads. */
const FILES_PER_UNION_STATEMENT = 16;
/**
 * Row groups cut by size, not DuckDB's 122,880 rows: the Parquet writer holds one row group of
 * every column (wide rows: the raw JSON) before it writes it. 8 MB: ~8,000 lake rows.
 */
export const COMPACT_ROW_GROUP_BYTES = '16MB';
const PARQUET_OPTIONS = `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000, ROW_GROUP_SIZE_BYTES '${COMPACT_ROW_GROUP_BYTES}')`;
const LOCK_NAME = '.compacting';

export interface PartitionPlan {
  inputs: PartitionFile[];
}

/** Files of an open hour at least this big are not merged again before the hour closes. */
const OPEN_MERGE_MAX_FILE_BYTES = 8 * 1024 * 1024;

/**
 * What to do with one partition's Parquet files: nothing (null), or merge `inputs`. Closed:
 * everything, unless it already is one run's complete output. Open: only at `openHourMaxFiles`
 * files, and only the small ones (a big file is merged again when the hour closes).
 */
export function planPartition(
  files: readonly PartitionFile[],
  closed: boolean,
  options: { openHourMaxFiles: number },
): PartitionPlan | null {
  let inputs: PartitionFile[];
  if (closed) {
    if (files.length === 0 || completedRun(files) !== null) return null;
    inputs = [...files];
  } else {
    if (options.openHourMaxFiles <= 0 || files.length < options.openHourMaxFiles) return null;
    inputs = files.filter((f) => f.bytes < OPEN_MERGE_MAX_FILE_BYTES);
    if (inputs.length < 2) return null;
  }
  return { inputs };
}

/**
 * The merge without duplicate ids, in one streaming pass over the wide rows: the ids seen more
 * than once are found by their 64-bit hash with a GROUP BY on it alone (`dups`: 8 bytes a row, it
 * spills; a hash collision only makes an id a candidate, never drops a row), the copies to drop
 * are named by (file index, row number: DuckDB's virtual columns) — every copy of a duplicated id
 * but its first — in a narrow table (`drop_rows`), and the rows are read once more without them
 * (`dedupedSource`, an anti join on the narrow key) for the COPY and for the rollup. A DISTINCT ON
 * or ORDER BY over the rows would hold the wide rows (the raw JSON) in memory: measured, DuckDB
 * exceeded a 192 MB memory_limit on 100,000 rows that way. `source` is a read_parquet(...) over the
 * inputs. Drop the two tables with DEDUP_CLEANUP.
 */
export function dedupSql(source: string): string[] {
  return [
    `CREATE OR REPLACE TEMP TABLE dups AS SELECT hash(id) AS h FROM ${source} GROUP BY h HAVING count(*) > 1`,
    'CREATE OR REPLACE TEMP TABLE drop_rows AS SELECT file_index, file_row_number FROM (' +
      'SELECT file_index, file_row_number, row_number() OVER (PARTITION BY id ORDER BY file_index, file_row_number) AS k ' +
      `FROM ${source} WHERE hash(id) IN (SELECT h FROM dups)) WHERE k > 1`,
  ];
}

/**
 * The rows of `source` without the copies named in `drop_rows` (after dedupSql). `source` reads
 * `count` of the files dedupSql read, from the `offset`-th on (one output file's share).
 */
export function dedupedSource(source: string, offset = 0, count?: number): string {
  const drop =
    count === undefined
      ? 'drop_rows'
      : `(SELECT file_index - ${offset} AS file_index, file_row_number FROM drop_rows ` +
        `WHERE file_index >= ${offset} AND file_index < ${offset + count})`;
  return (
    `(SELECT s.* FROM ${source} s ANTI JOIN ${drop} d ` +
    'ON s.file_index = d.file_index AND s.file_row_number = d.file_row_number)'
  );
}

export const DEDUP_CLEANUP = [
  'DROP TABLE IF EXISTS dups',
  'DROP TABLE IF EXISTS drop_rows',
  'DROP TABLE IF EXISTS rollup_parts',
];

/**
 * Rows of one output file at most. An hour with more ends as several files
 * (`…-<k>of<K>_c.parquet`), each written by a statement that reads only its share of the hour: the
 * memory a statement needs grows with the row groups it reads and writes (their metadata), so
 * this bounds it whatever the hour's size.
 */
export const ROWS_PER_OUTPUT = COMPACT_DEFAULTS.rowsPerOutput;

/**
 * Consecutive files grouped by at most `maxRows` rows (a bigger file alone) and `maxFiles` files:
 * the files of one output, or of one stage file.
 */
export function fileGroups(
  rows: readonly number[],
  maxRows: number,
  maxFiles = Number.POSITIVE_INFINITY,
): Array<{ offset: number; count: number }> {
  const groups: Array<{ offset: number; count: number; rows: number }> = [];
  rows.forEach((n, i) => {
    const last = groups.at(-1);
    if (last && last.rows + n <= maxRows && last.count < maxFiles) {
      last.count++;
      last.rows += n;
    } else groups.push({ offset: i, count: 1, rows: n });
  });
  return groups.map(({ offset, count }) => ({ offset, count }));
}

/** Rows per file, from the footers (a bounded number of files per statement). */
async function fileRows(connection: DuckDBConnection, paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < paths.length; i += FILES_PER_STATEMENT) {
    const group = paths.slice(i, i + FILES_PER_STATEMENT);
    const reader = await connection.runAndReadAll(
      `SELECT file_name, num_rows::BIGINT FROM parquet_file_metadata([${group.map(sqlString).join(', ')}])`,
    );
    const byName = new Map(reader.getRows().map(([f, n]) => [String(f), Number(n)]));
    for (const p of group) {
      const n = byName.get(p);
      if (n === undefined) throw new SinkUnavailableError(`compaction: no row count for ${p}`);
      out.push(n);
    }
  }
  return out;
}

/**
 * Takes the partition's lock, or returns null when another compactor holds it. The lock names its
 * holder (`host pid`): a lock of a process of this host that no longer runs (SIGKILLed mid-run) is
 * taken over at once; another host's lock only once it is older than `staleBefore`.
 */
async function lockPartition(dir: string, staleBefore: number): Promise<(() => Promise<void>) | null> {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${hostname()} ${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(path).catch(() => null);
      const holder = await readFile(path, 'utf8').catch(() => '');
      if (info && info.mtimeMs >= staleBefore && holderAlive(holder)) return null;
      await rm(path, { force: true }); // a crashed compactor's lock
    }
  }
  return null;
}

/** False only when the lock's holder is a process of this host that no longer runs. */
function holderAlive(holder: string): boolean {
  const [host, pid] = holder.trim().split(' ');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs one statement; its error names the step (which stage or bucket ran out of memory). */
async function runStep(connection: DuckDBConnection, step: string, sql: string): Promise<void> {
  try {
    await connection.run(sql);
  } catch (err) {
    throw new SinkUnavailableError(`compaction ${step}: ${(err as Error).message}`, { cause: err });
  }
}

async function countRows(connection: DuckDBConnection, source: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*)::BIGINT FROM ${source}`);
  return Number(reader.getRows()[0][0]);
}

export function parquetSource(paths: readonly string[], unionByName = true): string {
  return `read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = ${unionByName}, hive_partitioning = false)`;
}

/**
 * Whether every file has the same columns (names and types; DuckDB matches them by name): then the
 * files are read without union_by_name. And the column names of them all (the rollup reads NULL
 * for a column an older layout lacks). From the inputs' footers, a bounded number of files at a
 * time — never from the merged files, whose footers are large once parsed.
 */
async function inputLayouts(
  connection: DuckDBConnection,
  paths: readonly string[],
): Promise<{ same: boolean; columns: Set<string> }> {
  const layouts = new Set<string>();
  const columns = new Set<string>();
  for (let i = 0; i < paths.length; i += FILES_PER_STATEMENT) {
    const group = paths.slice(i, i + FILES_PER_STATEMENT);
    const reader = await connection.runAndReadAll(
      `SELECT DISTINCT array_to_string(list_sort(list(name || ' ' || coalesce(type, ''))), ',') ` +
        `FROM parquet_schema([${group.map(sqlString).join(', ')}]) GROUP BY file_name`,
    );
    for (const [layout] of reader.getRows()) {
      if (layouts.has(String(layout))) continue;
      layouts.add(String(layout));
      for (const column of String(layout).split(',')) columns.add(column.split(' ')[0]);
    }
  }
  return { same: layouts.size <= 1, columns };
}

/** A DuckDB instance for compaction: capped memory, few threads, spilling into the lake's own disk. */
export async function openCompactionDb(
  lakeDir: string,
  memoryLimitMb: number,
  threads: number,
): Promise<DuckDBInstance> {
  const spill = join(lakeDir, '.compact-spill');
  await rm(spill, { recursive: true, force: true });
  await mkdir(spill, { recursive: true });
  return DuckDBInstance.create(':memory:', {
    memory_limit: `${memoryLimitMb}MB`,
    threads: String(threads),
    temp_directory: spill,
    preserve_insertion_order: 'false',
    // Each input is read once: caching file contents only adds resident memory.
    enable_external_file_cache: 'false',
    // Hand freed memory back after each task rather than keeping up to 128 MB per thread.
    allocator_flush_threshold: '8MB',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
}

async function compactPartition(
  connection: DuckDBConnection,
  lakeDir: string,
  logType: string,
  dir: string,
  plan: PartitionPlan,
  closed: boolean,
  rowsPerOutput: number,
): Promise<PartitionResult> {
  const started = performance.now();
  const inputs = plan.inputs.map((f) => join(dir, f.name));
  const run = `${Date.now()}_${randomBytes(5).toString('hex')}`;
  const outputs: Array<{ temp: string; final: string }> = [];
  const stageDir = join(dir, `${STAGE_PREFIX}${run}`);
  let rowsBefore = 0;
  let dropped = 0;
  let rollup: RollupTarget | undefined;
  try {
    // DuckDB's memory grows with the files one statement reads (state kept per file opened):
    // concatenate them, a bounded number at a time, into hidden stage files until few remain.
    const { same, columns } = await inputLayouts(connection, inputs);
    const perStatement = same ? FILES_PER_STATEMENT : FILES_PER_UNION_STATEMENT;
    let files = inputs;
    let rows = await fileRows(connection, files);
    rowsBefore = rows.reduce((a, b) => a + b, 0);
    for (let level = 0; files.length > perStatement; level++) {
      await mkdir(stageDir, { recursive: true });
      const next: string[] = [];
      const nextRows: number[] = [];
      // Stage files of up to ROWS_PER_OUTPUT rows (then of perStatement files, if ever needed).
      const groups = fileGroups(rows, level === 0 ? rowsPerOutput : Number.POSITIVE_INFINITY, perStatement);
      for (const [k, g] of groups.entries()) {
        const group = files.slice(g.offset, g.offset + g.count);
        const groupRows = rows.slice(g.offset, g.offset + g.count).reduce((a, b) => a + b, 0);
        if (group.length === 1) {
          next.push(group[0]);
          nextRows.push(groupRows);
          continue;
        }
        const target = join(stageDir, `${level}_${k}.parquet`);
        await runStep(
          connection,
          `concat ${level}.${k}`,
          `COPY (SELECT * FROM ${parquetSource(group, !same)}) TO ${sqlString(target)} ${PARQUET_OPTIONS}`,
        );
        next.push(target);
        nextRows.push(groupRows);
      }
      files = next;
      rows = nextRows;
    }
    const merged = files;
    const source = parquetSource(merged, !same);
    for (const sql of dedupSql(source)) await runStep(connection, 'dedup', sql);
    dropped = await countRows(connection, 'drop_rows');
    // Each output file (and its part of the rollup) from its own share of the merged files.
    const groups = fileGroups(rows, rowsPerOutput);
    if (closed)
      await runStep(
        connection,
        'rollup parts',
        `CREATE OR REPLACE TEMP TABLE rollup_parts ${ROLLUP_COLUMNS}`,
      );
    for (const [k, g] of groups.entries()) {
      const name = `events_${logType}_${run}-${k}of${groups.length}_c.parquet`;
      outputs.push({ temp: join(dir, `.${name}.tmp`), final: join(dir, name) });
      const share = parquetSource(merged.slice(g.offset, g.offset + g.count), !same);
      const deduped = dedupedSource(share, g.offset, g.count);
      await runStep(
        connection,
        `copy ${k}`,
        `COPY ${deduped} TO ${sqlString(outputs[k].temp)} ${PARQUET_OPTIONS}`,
      );
      // The closed hour's aggregates, from the same rows (the output is not read back: a big
      // hour's footer alone is tens of MB once parsed).
      if (closed)
        await runStep(connection, `rollup ${k}`, `INSERT INTO rollup_parts ${rollupSql(deduped, columns)}`);
    }
    if (closed) {
      rollup = await rollupTarget(lakeDir, dir, run);
      await runStep(
        connection,
        'rollup',
        `COPY (${rollupFromParts('rollup_parts')}) TO ${sqlString(rollup.temp)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    }
  } catch (err) {
    for (const o of outputs) await rm(o.temp, { force: true });
    if (rollup) await rm(rollup.temp, { force: true });
    throw err;
  } finally {
    for (const sql of DEDUP_CLEANUP) await connection.run(sql).catch(() => {});
    await rm(stageDir, { recursive: true, force: true });
  }
  const rowsAfter = rowsBefore - dropped;
  let bytesAfter = 0;
  for (const o of outputs) {
    await fsyncPath(o.temp);
    bytesAfter += (await stat(o.temp)).size;
  }
  for (const o of outputs) await rename(o.temp, o.final);
  await fsyncPath(dir);
  for (const input of inputs) await rm(input, { force: true });
  await fsyncPath(dir);
  if (rollup) await publishRollup(rollup, 'rollup_');
  return {
    logType,
    dir,
    closed,
    filesBefore: inputs.length,
    filesAfter: outputs.length,
    rowsBefore,
    rowsAfter,
    bytesBefore: plan.inputs.reduce((s, f) => s + f.bytes, 0),
    bytesAfter,
    durationMs: performance.now() - started,
  };
}

export async function compactLake(options: CompactOptions): Promise<CompactStats> {
  const o = { ...COMPACT_DEFAULTS, ...definedOnly(options) };
  const now = options.nowMs ?? Date.now();
  const staleBefore = Date.now() - o.staleTempMs;
  const stats: CompactStats = {
    partitions: 0,
    filesBefore: 0,
    filesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    duplicatesDropped: 0,
    staleTempsRemoved: 0,
    locked: 0,
    hourRollups: 0,
    dayRollups: 0,
    spanHourRollups: 0,
  };
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  const connect = async (): Promise<DuckDBConnection> => {
    if (!connection) {
      instance = await openCompactionDb(options.lakeDir, o.memoryLimitMb, o.threads);
      connection = await instance.connect();
    }
    return connection;
  };
  try {
    for (const { logType, dir } of await hourPartitions(options.lakeDir)) {
      if (options.signal?.aborted) break;
      const closed = options.includeOpenHours === true || isClosed(dir, now, o.closeAfterMs);
      const { files, temps } = await listPartition(dir);
      for (const name of temps) {
        const info = await stat(join(dir, name)).catch(() => null);
        if (info && info.mtimeMs < staleBefore) {
          await rm(join(dir, name), { recursive: true, force: true });
          stats.staleTempsRemoved++;
        }
      }
      const plan = planPartition(files, closed, o);
      if (!plan) continue;
      const unlock = await lockPartition(dir, staleBefore);
      if (!unlock) {
        stats.locked++;
        continue;
      }
      try {
        const result = await compactPartition(
          await connect(),
          options.lakeDir,
          logType,
          dir,
          plan,
          closed,
          o.rowsPerOutput,
        );
        stats.partitions++;
        stats.filesBefore += result.filesBefore;
        stats.filesAfter += result.filesAfter;
        stats.rowsBefore += result.rowsBefore;
        stats.rowsAfter += result.rowsAfter;
        stats.duplicatesDropped += result.rowsBefore - result.rowsAfter;
        options.onPartition?.(result);
      } finally {
        await unlock();
      }
    }
    // The hour rollups of hours compacted by an older version, and the day rollups of closed days.
    if (!options.signal?.aborted) {
      const built = await buildRollups(connect, options.lakeDir, {
        nowMs: now,
        closeAfterMs: o.closeAfterMs,
        signal: options.signal,
        lock: (dir) => lockPartition(dir, staleBefore),
      });
      stats.hourRollups = built.hourRollups;
      stats.dayRollups = built.dayRollups;
      stats.spanHourRollups = built.spanHourRollups;
    }
  } finally {
    connection?.closeSync();
    instance?.closeSync();
    if (instance) await rm(join(options.lakeDir, '.compact-spill'), { recursive: true, force: true });
  }
  return stats;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface LakeInventory {
  files: number;
  bytes: number;
  partitions: number;
  /** Most files in one closed partition / in one open partition. */
  maxFilesClosed: number;
  maxFilesOpen: number;
  /** Closed partitions not yet compacted. */
  pendingClosed: number;
  /** Seconds since the oldest pending closed partition closed (0 when none). */
  lagSeconds: number;
}

/** Files, bytes and compaction backlog of the lake now (metrics and health). */
export async function lakeInventory(
  lakeDir: string,
  nowMs = Date.now(),
  closeAfterMs: number = COMPACT_DEFAULTS.closeAfterMs,
): Promise<LakeInventory> {
  const inv: LakeInventory = {
    files: 0,
    bytes: 0,
    partitions: 0,
    maxFilesClosed: 0,
    maxFilesOpen: 0,
    pendingClosed: 0,
    lagSeconds: 0,
  };
  for (const { dir } of await hourPartitions(lakeDir)) {
    const { files } = await listPartition(dir);
    if (files.length === 0) continue;
    inv.partitions++;
    inv.files += files.length;
    inv.bytes += files.reduce((s, f) => s + f.bytes, 0);
    const closed = isClosed(dir, nowMs, closeAfterMs);
    if (closed) {
      inv.maxFilesClosed = Math.max(inv.maxFilesClosed, files.length);
      if (completedRun(files) === null) {
        inv.pendingClosed++;
        const closedAt = (partitionStartMs(dir) ?? nowMs) + HOUR_MS + closeAfterMs;
        inv.lagSeconds = Math.max(inv.lagSeconds, Math.round((nowMs - closedAt) / 1000));
      }
    } else {
      inv.maxFilesOpen = Math.max(inv.maxFilesOpen, files.length);
    }
  }
  return inv;
}
