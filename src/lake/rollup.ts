import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { sqlString } from '../core/sql.ts';

/**
 * Aggregates of the lake for the dashboard, so statistics do not grow with the lake: when a
 * closed hour is compacted (compact.ts), its rollup is written beside the lake in
 * `.rollups/<log_type>/year=/month=/day=/hour=/rollup_<run>.parquet`:
 *
 * | kind     | t (epoch ms)  | key                  | n      |
 * |----------|---------------|----------------------|--------|
 * | `minute` | minute start  | direction (or `unknown`) | events of that minute, log type and direction |
 * | `src`    | NULL          | src_ip               | events of the hour (the hour's top 1000) |
 * | `dst`    | NULL          | dst_ip               | events of the hour (the hour's top 1000) |
 *
 * Statistics over a window read the rollups of the whole hours inside it whose partition is still
 * exactly the run the rollup was made from, and scan the events of every other hour in it (the
 * open hour, the window's partial first and last hours, hours not compacted yet): the scan is
 * bounded by a few hours, not by the lake. Top addresses are exact when each hour's top 1000
 * contains the window's top 10 (a long tail of rare addresses is cut per hour).
 */
export const ROLLUPS_DIR = '.rollups';
export const ROLLUP_TOP_PER_HOUR = 1000;
const HOUR_MS = 3_600_000;
const RUN_RE = /_([0-9]+_[0-9a-f]+)-\d+of\d+_c\.parquet$/;
const ROLLUP_RE = /^rollup_([0-9]+_[0-9a-f]+)\.parquet$/;

/** The rollup statement over one compacted hour's files (`source` is a read_parquet(...) call). */
export function rollupSql(source: string): string {
  const top = (kind: 'src' | 'dst') =>
    `SELECT * FROM (SELECT '${kind}' AS kind, NULL::BIGINT AS t, log_type, ${kind}_ip AS key, count(*)::BIGINT AS n ` +
    `FROM ${source} WHERE ${kind}_ip IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT ${ROLLUP_TOP_PER_HOUR})`;
  return (
    `SELECT 'minute' AS kind, epoch_ms(time_bucket(INTERVAL 1 minute, event_time)) AS t, log_type, ` +
    `coalesce(direction, 'unknown') AS key, count(*)::BIGINT AS n FROM ${source} GROUP BY ALL ` +
    `UNION ALL ${top('src')} UNION ALL ${top('dst')}`
  );
}

export interface StatsWindow {
  from: number;
  to: number;
  bucketSeconds: number;
}

export interface StatsPlan {
  /** Rollup files of whole hours inside the window. */
  rollups: string[];
  /** Event files of the hours the rollups do not cover (scanned with the time filter). */
  events: string[];
}

/** Hour partition directories of one log type whose hour overlaps [from, to]. */
function hoursIn(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h <= to; h += HOUR_MS) hours.push(h);
  return hours;
}

function hourPath(hourMs: number): string {
  const iso = new Date(hourMs).toISOString();
  return join(
    `year=${iso.slice(0, 4)}`,
    `month=${iso.slice(5, 7)}`,
    `day=${iso.slice(8, 10)}`,
    `hour=${iso.slice(11, 13)}`,
  );
}

/** Longest window answered hour by hour from the directory tree (a year); longer: a scan plan. */
const MAX_PLANNED_HOURS = 24 * 366;

/**
 * Which files answer the window: per log type and hour, the current rollup when the hour lies
 * wholly inside the window and the rollup's run is the partition's files, else the hour's events.
 * Rollups have minute rows, so they serve only buckets that are whole minutes.
 */
export async function planStats(lakeDir: string, w: StatsWindow): Promise<StatsPlan> {
  const plan: StatsPlan = { rollups: [], events: [] };
  const hours = hoursIn(w.from, w.to);
  if (hours.length > MAX_PLANNED_HOURS) throw new UsageError(`window longer than ${MAX_PLANNED_HOURS} hours`);
  const useRollups = w.bucketSeconds % 60 === 0;
  const types = (await readdir(lakeDir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);
  for (const type of types) {
    // One listing per year/month/day level would be faster for long windows; hours are cheap.
    for (const hour of hours) {
      const dir = join(lakeDir, type, hourPath(hour));
      const names = await readdir(dir).catch(() => null);
      if (names === null) continue;
      const files = names.filter((n) => n.endsWith('.parquet') && !n.startsWith('.'));
      if (files.length === 0) continue;
      const whole = hour >= w.from && hour + HOUR_MS - 1 <= w.to;
      if (useRollups && whole) {
        const rollup = await currentRollup(lakeDir, dir, files);
        if (rollup) {
          plan.rollups.push(rollup);
          continue;
        }
      }
      for (const f of files) plan.events.push(join(dir, f));
    }
  }
  return plan;
}

/** The partition's rollup file when it was made from exactly the files there now. */
async function currentRollup(lakeDir: string, dir: string, files: string[]): Promise<string | null> {
  const runs = new Set(files.map((f) => RUN_RE.exec(f)?.[1] ?? '-'));
  if (runs.size !== 1 || runs.has('-')) return null;
  const [run] = runs;
  const rollupDir = join(lakeDir, ROLLUPS_DIR, relative(lakeDir, dir));
  const names = await readdir(rollupDir).catch(() => [] as string[]);
  const name = names.find((n) => ROLLUP_RE.exec(n)?.[1] === run);
  // The run's file count is checked by compaction (a complete run); a run missing a bucket file
  // cannot have its rollup: the rollup is written after every bucket is renamed.
  return name ? join(rollupDir, name) : null;
}

function list(paths: readonly string[]): string {
  return `[${paths.map(sqlString).join(', ')}]`;
}

/**
 * The four statistics of /api/stats over a plan: `by_type` ({t, log_type, n} per bucket),
 * `top_src` / `top_dst` ({ip, n}, 10), `direction` ({direction, n}). Null when the plan is empty.
 */
export function statsSqlFor(plan: StatsPlan, w: StatsWindow): Record<StatName, string> | null {
  if (plan.rollups.length === 0 && plan.events.length === 0) return null;
  return statementsOver(rollupSource(plan), eventSource(plan, w), w);
}

export const STAT_NAMES = ['by_type', 'top_src', 'top_dst', 'direction'] as const;
export type StatName = (typeof STAT_NAMES)[number];

function rollupSource(plan: StatsPlan): string | null {
  return plan.rollups.length > 0
    ? `read_parquet(${list(plan.rollups)}, union_by_name = true, hive_partitioning = false)`
    : null;
}

function eventSource(plan: StatsPlan, w: StatsWindow): string | null {
  const fromTs = `make_timestamp(${Math.trunc(w.from) * 1000})`;
  const toTs = `make_timestamp(${Math.trunc(w.to) * 1000})`;
  return plan.events.length > 0
    ? `(SELECT log_type, event_time, direction, src_ip, dst_ip FROM read_parquet(${list(plan.events)}, union_by_name = true, hive_partitioning = false) WHERE event_time >= ${fromTs} AND event_time <= ${toTs})`
    : null;
}

/** The four statements over the given sources (read_parquet calls, or CTE names). */
function statementsOver(
  rollups: string | null,
  events: string | null,
  w: StatsWindow,
): Record<StatName, string> {
  const bucketOf = (ts: string) =>
    `epoch_ms(time_bucket(INTERVAL '${Math.trunc(w.bucketSeconds)} seconds', ${ts}))`;
  const parts = (fromRollup: string, fromEvents: string) =>
    [rollups ? fromRollup : null, events ? fromEvents : null].filter((p) => p !== null).join(' UNION ALL ');
  const top = (kind: 'src' | 'dst') =>
    `SELECT ip, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT key AS ip, n FROM ${rollups} WHERE kind = '${kind}'`,
      `SELECT ${kind}_ip AS ip, count(*) AS n FROM ${events} WHERE ${kind}_ip IS NOT NULL GROUP BY ALL`,
    )}) GROUP BY ALL ORDER BY n DESC, ip LIMIT 10`;
  return {
    by_type: `SELECT t, log_type, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT ${bucketOf('make_timestamp(t * 1000)')} AS t, log_type, n FROM ${rollups} WHERE kind = 'minute'`,
      `SELECT ${bucketOf('event_time')} AS t, log_type, count(*) AS n FROM ${events} GROUP BY ALL`,
    )}) GROUP BY ALL ORDER BY t, log_type`,
    top_src: top('src'),
    top_dst: top('dst'),
    direction: `SELECT direction, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT key AS direction, n FROM ${rollups} WHERE kind = 'minute'`,
      `SELECT coalesce(direction, 'unknown') AS direction, count(*) AS n FROM ${events} GROUP BY ALL`,
    )}) GROUP BY ALL ORDER BY n DESC, direction`,
  };
}

/**
 * The four statistics in one statement: the rollup files and the scanned events are read once
 * (materialized CTEs) instead of once per statistic — four passes over a day's 120 small rollup
 * files cost about three times one (issue 17's console bench). Rows are `(stat, t, log_type, key,
 * n)`; `splitStats` gives the four row lists back in the shapes and orders of `statsSqlFor`.
 */
export function statsOneSql(plan: StatsPlan, w: StatsWindow): string | null {
  if (plan.rollups.length === 0 && plan.events.length === 0) return null;
  const rollups = rollupSource(plan);
  const events = eventSource(plan, w);
  const ctes = [
    rollups ? `ru AS MATERIALIZED (SELECT kind, t, log_type, key, n FROM ${rollups})` : null,
    events ? `ev AS MATERIALIZED ${events}` : null,
  ].filter((c) => c !== null);
  const st = statementsOver(rollups ? 'ru' : null, events ? 'ev' : null, w);
  const shapes: Record<StatName, string> = {
    by_type: 't::BIGINT, log_type::VARCHAR, NULL::VARCHAR',
    top_src: 'NULL::BIGINT, NULL::VARCHAR, ip::VARCHAR',
    top_dst: 'NULL::BIGINT, NULL::VARCHAR, ip::VARCHAR',
    direction: 'NULL::BIGINT, NULL::VARCHAR, direction::VARCHAR',
  };
  const union = STAT_NAMES.map(
    (name) => `SELECT '${name}' AS stat, ${shapes[name]}, n FROM (${st[name]})`,
  ).join(' UNION ALL ');
  return `WITH ${ctes.join(', ')} SELECT * FROM (${union})`;
}

type StatRow = Record<string, unknown>;

/** The rows of `statsOneSql` as the four lists `statsSqlFor`'s statements give, in their orders. */
export function splitStats(rows: readonly unknown[][]): Record<StatName, StatRow[]> {
  const out: Record<StatName, StatRow[]> = { by_type: [], top_src: [], top_dst: [], direction: [] };
  for (const [stat, t, logType, key, n] of rows) {
    const name = stat as StatName;
    if (name === 'by_type') out.by_type.push({ t, log_type: logType, n });
    else if (name === 'direction') out.direction.push({ direction: key, n });
    else out[name].push({ ip: key, n });
  }
  // Byte order, as DuckDB's ORDER BY on VARCHAR.
  const text = (a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
  const byN = (k: string) => (a: StatRow, b: StatRow) => Number(b.n) - Number(a.n) || text(a[k], b[k]);
  out.by_type.sort((a, b) => Number(a.t) - Number(b.t) || text(a.log_type, b.log_type));
  out.top_src.sort(byN('ip'));
  out.top_dst.sort(byN('ip'));
  out.direction.sort(byN('direction'));
  return out;
}
