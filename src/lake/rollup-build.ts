import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SinkUnavailableError } from '../core/errors.ts';
import { sqlString } from '../core/sql.ts';
import { fsyncPath } from '../sinks/parquet/writer.ts';
import { completedRun, hourPartitions, isClosed, partitionStartMs } from './partitions.ts';
import {
  currentHourRollup,
  hourRollupName,
  ROLLUPS_DIR,
  rollupSql,
  SPANS,
  type Span,
  spanRollupDir,
  spanRollupName,
  spanRollupSql,
  spanSignature,
  spanStart,
} from './rollup.ts';

/**
 * The rollups (rollup.ts) the compactor keeps current besides the hour rollup it writes with each
 * compacted hour, after its partitions in every run (compactLake):
 * - **hour rollups** missing for a closed partition that is one complete compaction run (made by
 *   an older version of the rollup, or lost): made from the run's files;
 * - **span rollups** (days and hours, all log types): for each closed UTC day and each closed hour
 *   whose partitions (all log types) are each one run with its current hour rollup, the sum of
 *   those hour rollups, named by the span's signature, when the span has no file of that
 *   signature yet (its first, or a partition of it was compacted again after a late event, or
 *   retention dropped some of its hours).
 * Each file is written as a temp file, fsynced and renamed; older files of the same hour or day
 * are deleted after. A file made from runs that changed meanwhile is never read: its run or
 * signature no longer matches the partitions (rollup.ts, planStats).
 */
export interface RollupWork {
  hours: Array<{ logType: string; dir: string; run: string; files: string[] }>;
  spans: SpanWork[];
}

export interface SpanWork {
  span: Span;
  start: number;
  signature: string;
  /** The hour rollups of every partition of the span. */
  rollups: string[];
}

const parquetNames = async (dir: string) =>
  ((await readdir(dir).catch(() => [])) as string[]).filter(
    (n) => n.endsWith('.parquet') && !n.startsWith('.'),
  );

interface ClosedPartition {
  logType: string;
  hour: number;
  files: string[];
  rollup: string | null;
}

/** What is missing now: hour rollups of closed compacted partitions, span rollups of closed spans. */
export async function rollupWork(lakeDir: string, nowMs: number, closeAfterMs: number): Promise<RollupWork> {
  const work: RollupWork = { hours: [], spans: [] };
  const closed: ClosedPartition[] = [];
  for (const { logType, dir } of await hourPartitions(lakeDir)) {
    const hour = partitionStartMs(dir);
    if (hour === null || !isClosed(dir, nowMs, closeAfterMs)) continue;
    const files = await parquetNames(dir);
    if (files.length === 0) continue;
    const run = completedRun(files.map((name) => ({ name, bytes: 0 })));
    const rollup = run === null ? null : await currentHourRollup(lakeDir, dir, files);
    if (run !== null && rollup === null) work.hours.push({ logType, dir, run, files });
    closed.push({ logType, hour, files, rollup });
  }
  for (const span of SPANS)
    work.spans.push(...(await missingSpans(lakeDir, span, closed, nowMs, closeAfterMs)));
  return work;
}

/** The closed spans whose partitions all have their hour rollups and whose file is missing. */
async function missingSpans(
  lakeDir: string,
  span: Span,
  closed: readonly ClosedPartition[],
  nowMs: number,
  closeAfterMs: number,
): Promise<SpanWork[]> {
  const bySpan = new Map<number, ClosedPartition[]>();
  for (const p of closed) {
    const start = spanStart(span, p.hour);
    bySpan.set(start, [...(bySpan.get(start) ?? []), p]);
  }
  const out: SpanWork[] = [];
  for (const [start, partitions] of bySpan) {
    if (start + span.ms + closeAfterMs > nowMs || partitions.some((p) => p.rollup === null)) continue;
    const signature = spanSignature(partitions);
    if (signature === null) continue;
    const names = await readdir(spanRollupDir(lakeDir, span, start)).catch(() => [] as string[]);
    if (!names.includes(spanRollupName(span, signature)))
      out.push({ span, start, signature, rollups: partitions.map((p) => p.rollup as string) });
  }
  return out;
}

export interface RollupBuildStats {
  hourRollups: number;
  dayRollups: number;
  /** Hour files of all log types (spans of one hour). */
  spanHourRollups: number;
  /** Rollups not made this run (their files changed meanwhile, or a partition was locked); retried next run. */
  skipped: number;
}

/**
 * Makes the missing rollups (hours first, then the days they complete). `lock` takes a
 * partition's compaction lock (null: another compactor holds it, the hour is left for later).
 */
export async function buildRollups(
  connect: () => Promise<DuckDBConnection>,
  lakeDir: string,
  options: {
    nowMs: number;
    closeAfterMs: number;
    signal?: AbortSignal;
    lock: (dir: string) => Promise<(() => Promise<void>) | null>;
  },
): Promise<RollupBuildStats> {
  const stats: RollupBuildStats = { hourRollups: 0, dayRollups: 0, spanHourRollups: 0, skipped: 0 };
  const first = await rollupWork(lakeDir, options.nowMs, options.closeAfterMs);
  for (const h of first.hours) {
    if (options.signal?.aborted) return stats;
    const unlock = await options.lock(h.dir);
    if (!unlock) {
      stats.skipped++;
      continue;
    }
    try {
      // Still the same run? (A compactor may have merged a late file meanwhile.)
      if (completedRun((await parquetNames(h.dir)).map((name) => ({ name, bytes: 0 }))) !== h.run) {
        stats.skipped++;
        continue;
      }
      await writeHourRollup(await connect(), lakeDir, h.dir, h.run, h.files);
      stats.hourRollups++;
    } catch (err) {
      if (!isGone(err)) throw err;
      stats.skipped++;
    } finally {
      await unlock();
    }
  }
  const work =
    first.hours.length > 0 ? await rollupWork(lakeDir, options.nowMs, options.closeAfterMs) : first;
  for (const d of work.spans) {
    if (options.signal?.aborted) return stats;
    try {
      await writeSpanRollup(await connect(), lakeDir, d);
      if (d.span.kind === 'day') stats.dayRollups++;
      else stats.spanHourRollups++;
    } catch (err) {
      // An hour rollup replaced meanwhile (the partition was compacted again): next run.
      if (!isGone(err)) throw err;
      stats.skipped++;
    }
  }
  return stats;
}

function isGone(err: unknown): boolean {
  return /No files found|No such file|Cannot open file|ENOENT/i.test((err as Error).message);
}

/** The hour rollup of a compaction run's files (an hour compacted before rollups had this version). */
async function writeHourRollup(
  connection: DuckDBConnection,
  lakeDir: string,
  dir: string,
  run: string,
  files: readonly string[],
): Promise<void> {
  const source = `read_parquet([${files.map((f) => sqlString(join(dir, f))).join(', ')}], union_by_name = true, hive_partitioning = false)`;
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const columns = new Set(reader.getRows().map((r) => String(r[0])));
  const target = await rollupTarget(lakeDir, dir, run);
  try {
    await runStep(
      connection,
      `hour rollup ${dir}`,
      `COPY (${rollupSql(source, columns)}) TO ${sqlString(target.temp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } catch (err) {
    await rm(target.temp, { force: true });
    throw err;
  }
  await publishRollup(target, 'rollup_');
}

async function writeSpanRollup(connection: DuckDBConnection, lakeDir: string, d: SpanWork): Promise<void> {
  const dir = spanRollupDir(lakeDir, d.span, d.start);
  await mkdir(dir, { recursive: true });
  const name = spanRollupName(d.span, d.signature);
  const target: RollupTarget = { dir, name, temp: join(dir, `.${name}.tmp`) };
  // Every hour rollup has the same columns (ROLLUP_COLUMNS): no union_by_name.
  const hours = `read_parquet([${d.rollups.map(sqlString).join(', ')}], union_by_name = false, hive_partitioning = false)`;
  try {
    await runStep(
      connection,
      `${d.span.kind} rollup ${new Date(d.start).toISOString().slice(0, d.span.isoChars)}`,
      `COPY (${spanRollupSql(hours)}) TO ${sqlString(target.temp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } catch (err) {
    await rm(target.temp, { force: true });
    throw err;
  }
  await publishRollup(target, `${d.span.kind}_`);
}

async function runStep(connection: DuckDBConnection, step: string, sql: string): Promise<void> {
  try {
    await connection.run(sql);
  } catch (err) {
    throw new SinkUnavailableError(`rollup ${step}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where a rollup file is written: a temp name first, renamed by publishRollup. */
export interface RollupTarget {
  dir: string;
  name: string;
  temp: string;
}

/** The hour rollup of `run` for the partition `dir`: `.rollups/<log_type>/year=…/hour=HH/rollup_v2_<run>.parquet`. */
export async function rollupTarget(lakeDir: string, dir: string, run: string): Promise<RollupTarget> {
  const rollupDir = join(lakeDir, ROLLUPS_DIR, relative(lakeDir, dir));
  await mkdir(rollupDir, { recursive: true });
  const name = hourRollupName(run);
  return { dir: rollupDir, name, temp: join(rollupDir, `.${name}.tmp`) };
}

/** Renames the temp file into place (fsynced), then deletes the older files of `prefix` beside it. */
export async function publishRollup(r: RollupTarget, prefix: 'rollup_' | 'day_' | 'hour_'): Promise<void> {
  await fsyncPath(r.temp);
  await rename(r.temp, join(r.dir, r.name));
  await fsyncPath(r.dir);
  for (const old of await readdir(r.dir)) {
    if (old !== r.name && old.startsWith(prefix)) await rm(join(r.dir, old), { force: true });
  }
}
