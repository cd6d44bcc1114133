/**
 * Compaction of one big hour: the peak resident memory of the compaction process (the goal:
 * ≤ 256 MB whatever the hour's size), its speed, and that the hour ends as one file with every id
 * once. The hour is one log type's partition as the writer leaves it (bench/lake-fixture.ts: real
 * writer files multiplied by DuckDB): files of ~2,000 rows, 5 % of the rows replayed into files of
 * their own (duplicate ids). It must end as at most 3 files (1.5 M rows each at most) holding
 * every id once.
 *
 * Baseline in the same run: the same compaction in a process with the default environment
 * (libuv's four threads, glibc's default arenas), i.e. what it costs inside the process that
 * writes the lake. Sizes: 200,000 rows (~100 files) by default, 100,000 with
 * SOCSTREAM_BENCH_QUICK=1, 3,000,000 (~1,500 files) with SOCSTREAM_BENCH_BIG=1 (`bench --big`:
 * minutes; no baseline run then). Run alone: `node bench/compact.bench.ts`.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlString } from '../src/core/sql.ts';
import { COMPACT_DEFAULTS } from '../src/lake/compact.ts';
import { type ChildCompactStats, compactInChild } from '../src/lake/compact-process.ts';
import { bigHour, loadTemplate } from './lake-fixture.ts';
import type { BenchRow } from './types.ts';

const BIG = process.env.SOCSTREAM_BENCH_BIG === '1';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const ROWS = BIG ? 3_000_000 : QUICK ? 100_000 : 200_000;
const HOUR = Date.parse('2026-01-31T10:00:00Z');
const MB = 2 ** 20;

async function timedCompaction(
  lakeDir: string,
  env?: Record<string, string | undefined>,
): Promise<{ stats: ChildCompactStats; seconds: number }> {
  const started = performance.now();
  const stats = await compactInChild({ lakeDir, memoryLimitMb: COMPACT_DEFAULTS.memoryLimitMb }, env);
  return { stats, seconds: (performance.now() - started) / 1000 };
}

export async function run(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'socstream-bench-compact-'));
  try {
    const template = await loadTemplate(work, QUICK ? 20_000 : 60_000, 512);
    const lakeDir = join(work, 'lake');
    const hour = await bigHour(template, lakeDir, {
      logType: 'conn',
      hourMs: HOUR,
      rows: ROWS,
      rowsPerFile: 2000,
      duplicateShare: 0.05,
    });
    const baselineDir = join(work, 'lake-baseline');
    if (!BIG) cpSync(lakeDir, baselineDir, { recursive: true });
    const load = loadavg()[0];
    const measured = await timedCompaction(lakeDir);
    // Every id once, in one file.
    const files = readdirSync(hour.dir).filter((f) => f.endsWith('.parquet'));
    const reader = await template.connection.runAndReadAll(
      `SELECT count(*)::BIGINT, count(DISTINCT id)::BIGINT FROM read_parquet(${sqlString(join(hour.dir, '*.parquet'))})`,
    );
    const [rows, ids] = reader.getRows()[0].map(Number);
    template.close();
    if (
      files.length !== measured.stats.filesAfter ||
      files.length > 3 ||
      rows !== hour.distinct ||
      ids !== hour.distinct
    )
      throw new Error(
        `compact bench: ${files.length} files, ${rows} rows, ${ids} ids; expected at most 3 files, ${hour.distinct} ids`,
      );
    const baseline = BIG ? null : await timedCompaction(baselineDir, {});
    const what = `one conn hour: ${hour.rows.toLocaleString('en')} rows in ${hour.files} files (${(hour.rows - hour.distinct).toLocaleString('en')} duplicates) → ${files.length} file(s), every id once; memory_limit ${COMPACT_DEFAULTS.memoryLimitMb} MB; load ${load.toFixed(1)}`;
    const out: BenchRow[] = [
      {
        bench: 'compact',
        metric: `compaction peak RSS, ${(hour.rows / 1e6).toFixed(1)} M-row hour`,
        value: Math.round(measured.stats.maxRssBytes / MB),
        unit: 'MB',
        target: { op: '<=', value: 256 },
        note: `${what}; the compaction child process (UV_THREADPOOL_SIZE=1, MALLOC_ARENA_MAX=2)${baseline ? `; default environment in the same run: ${Math.round(baseline.stats.maxRssBytes / MB)} MB` : ''}`,
      },
      {
        bench: 'compact',
        metric: 'compaction rows/s',
        value: Math.round(hour.rows / measured.seconds),
        unit: 'rows/s',
        note: `${measured.seconds.toFixed(1)} s wall clock, one DuckDB thread${baseline ? `; default environment: ${Math.round(hour.rows / baseline.seconds)} rows/s` : ''}`,
      },
    ];
    if (baseline)
      out.push({
        bench: 'compact',
        metric: 'compaction peak RSS, default environment (baseline)',
        value: Math.round(baseline.stats.maxRssBytes / MB),
        unit: 'MB',
        note: 'the same compaction with libuv’s four threads and glibc’s default arenas (what it costs inside a busy process)',
      });
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
