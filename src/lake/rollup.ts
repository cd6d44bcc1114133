import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { sqlString } from '../core/sql.ts';
import { listDirsCached } from './dir-listing.ts';

/**
 * Aggregates of the lake for the dashboard, so statistics do not grow with the lake.
 *
 * **Hour rollups.** When a closed hour of one log type is compacted (compact.ts), its rollup is
 * written beside the lake in `.rollups/<log_type>/year=/month=/day=/hour=/rollup_v2_<run>.parquet`
 * (a compacted hour without one, e.g. from an older version, gets one at the next compaction run:
 * rollup-build.ts):
 *
 * | kind     | t (epoch ms)  | key                      | key2   | n      |
 * |----------|---------------|--------------------------|--------|--------|
 * | `minute` | minute start  | direction (or `unknown`) |        | events of that minute, log type and direction |
 * | `src`    | NULL          | src_ip                   |        | events of the hour (every address) |
 * | `dst`    | NULL          | dst_ip                   |        | events of the hour (every address) |
 * | `ext`    | NULL          | src_ip                   | dst_ip | events from outside (EXTERNAL_SOURCE) of the hour, per pair |
 *
 * **Span rollups (all log types).** Once a UTC day (or an hour) is closed and every partition
 * of it (all log types) is one compaction run with its hour rollup, the compactor sums those hour
 * rollups into one file for the span: `.rollups/.days/YYYY-MM-DD/day_<signature>.parquet` and
 * `.rollups/.hours/YYYY-MM-DDTHH/hour_<signature>.parquet` (same columns; `src`, `dst` and `ext`
 * rows summed over the span's hours and log types, log_type NULL). The signature is a hash of the
 * span's (log type, hour, run) list: the file answers only while the span's partitions are
 * exactly the runs it was made from. A week's window reads ~30 files, not ~2,200.
 *
 * **Exactness.** A statistic over a window reads the day files of the whole days inside it whose
 * signature is the day's now, the same for the hour files of its other whole hours, the hour
 * rollups of the other whole (log type, hour) partitions whose partition is still
 * the run the rollup was made from, and scans the events of every other hour (the open hour, the
 * window's partial first and last hours, hours not compacted yet, hours with a late file): every
 * event is counted once, from its files as they are now. A late event, a recompaction or retention
 * changes a partition's files, so its hour (and day) rollups stop answering until the compactor
 * has made new ones; meanwhile the hour is scanned. Rollups keep every address, so the top lists
 * equal a scan's.
 */
export const ROLLUPS_DIR = '.rollups';
/** A span that one file of all log types answers: a UTC day or an hour, under ROLLUPS_DIR. */
export interface Span {
  kind: 'day' | 'hour';
  ms: number;
  /** Under ROLLUPS_DIR (a dot name: never a log type). */
  dir: string;
  /** The span's directory name from its start's ISO time (YYYY-MM-DD, YYYY-MM-DDTHH). */
  isoChars: number;
}
/** Columns of every rollup file (hour and day). */
export const ROLLUP_COLUMNS =
  '(kind VARCHAR, t BIGINT, log_type VARCHAR, key VARCHAR, key2 VARCHAR, n BIGINT)';
const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const DAY_SPAN: Span = { kind: 'day', ms: DAY_MS, dir: '.days', isoChars: 10 };
export const HOUR_SPAN: Span = { kind: 'hour', ms: HOUR_MS, dir: '.hours', isoChars: 13 };
/** Longest first: a window takes a day's file before the hours' files of that day. */
export const SPANS: readonly Span[] = [DAY_SPAN, HOUR_SPAN];
const RUN_RE = /_([0-9]+_[0-9a-f]+)-\d+of\d+_c\.parquet$/;
/** The current hour rollup's name; older versions (`rollup_<run>.parquet`) are not read. */
const ROLLUP_RE = /^rollup_v2_([0-9]+_[0-9a-f]+)\.parquet$/;

export function hourRollupName(run: string): string {
  return `rollup_v2_${run}.parquet`;
}

export function spanRollupName(span: Span, signature: string): string {
  return `${span.kind}_${signature}.parquet`;
}

/** The compaction run of an hour rollup's file name, or null (another version, a temp file). */
export function rollupRun(name: string): string | null {
  return ROLLUP_RE.exec(name)?.[1] ?? null;
}

/**
 * Events from outside, as the overview's top external sources count them: the enrichment's
 * direction says so, or (events without a destination, such as an auth log's failed logins) the
 * source is not in the home networks — or, with none configured, not in a private range.
 * `columns`: the source's columns when some may be missing (an older layout): those read NULL.
 */
export function externalSourceSql(columns?: ReadonlySet<string>): string {
  const col = (name: string, type: string) => (!columns || columns.has(name) ? name : `NULL::${type}`);
  return `(${col('direction', 'VARCHAR')} IN ('inbound', 'external') OR coalesce(${col('src_in_home', 'BOOLEAN')}, ${col('src_ip_is_private', 'BOOLEAN')}) = false)`;
}

/**
 * The rollup statement over one compacted hour's rows (`source`: a read_parquet(...) call or a
 * subquery), every address kept. `columns`: the source's columns, when it may lack some.
 */
export function rollupSql(source: string, columns?: ReadonlySet<string>): string {
  const col = (name: string) => (!columns || columns.has(name) ? name : 'NULL::VARCHAR');
  const addresses = (kind: 'src' | 'dst') =>
    `SELECT '${kind}' AS kind, NULL::BIGINT AS t, log_type, ${col(`${kind}_ip`)} AS key, NULL::VARCHAR AS key2, ` +
    `count(*)::BIGINT AS n FROM ${source} WHERE ${col(`${kind}_ip`)} IS NOT NULL GROUP BY ALL`;
  return (
    `SELECT 'minute' AS kind, epoch_ms(time_bucket(INTERVAL 1 minute, event_time)) AS t, log_type, ` +
    `coalesce(${col('direction')}, 'unknown') AS key, NULL::VARCHAR AS key2, count(*)::BIGINT AS n FROM ${source} GROUP BY ALL ` +
    `UNION ALL ${addresses('src')} UNION ALL ${addresses('dst')} UNION ALL ` +
    `SELECT 'ext' AS kind, NULL::BIGINT AS t, log_type, ${col('src_ip')} AS key, ${col('dst_ip')} AS key2, count(*)::BIGINT AS n ` +
    `FROM ${source} WHERE ${col('src_ip')} IS NOT NULL AND ${externalSourceSql(columns)} GROUP BY ALL`
  );
}

/** The hour's rollup from partial rollups (`rollupSql` rows of each part of the hour): summed. */
export function rollupFromParts(parts: string): string {
  return `SELECT kind, t, log_type, key, key2, sum(n)::BIGINT AS n FROM ${parts} GROUP BY ALL`;
}

/**
 * A span's rollup (day or hour, all log types) from its hour rollups (`hours`: a read_parquet(...)
 * of them): minute rows as they are, addresses and pairs summed over the hours and log types.
 */
export function spanRollupSql(hours: string): string {
  return (
    `SELECT kind, t, log_type, key, key2, sum(n)::BIGINT AS n FROM ${hours} WHERE kind = 'minute' GROUP BY ALL ` +
    `UNION ALL SELECT kind, NULL::BIGINT AS t, NULL::VARCHAR AS log_type, key, key2, sum(n)::BIGINT AS n ` +
    `FROM ${hours} WHERE kind <> 'minute' GROUP BY kind, key, key2`
  );
}

/**
 * The signature of a span's partitions: a hash of its sorted `log_type/hour/run` list, or null
 * when a partition of it is not one compaction run (writer files, a late file, a merge in
 * progress). `partitions`: every partition of the span that holds Parquet files, with their names.
 */
export function spanSignature(
  partitions: ReadonlyArray<{ logType: string; hour: number; files: readonly string[] }>,
): string | null {
  const lines: string[] = [];
  for (const p of partitions) {
    const runs = new Set(p.files.map((f) => RUN_RE.exec(f)?.[1] ?? '-'));
    if (runs.size !== 1 || runs.has('-')) return null;
    lines.push(`${p.logType}/${p.hour}/${[...runs][0]}`);
  }
  if (lines.length === 0) return null;
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 16);
}

/**
 * `.rollups/.days/YYYY-MM-DD` or `.rollups/.hours/YYYY-MM-DDTHH` of the span starting at startMs.
 * Not `year=/month=/day=`: a path five levels below the lake would match the `events` view's glob
 * (query.ts) and break its partitions.
 */
export function spanRollupDir(lakeDir: string, span: Span, startMs: number): string {
  return join(lakeDir, ROLLUPS_DIR, span.dir, new Date(startMs).toISOString().slice(0, span.isoChars));
}

export function spanStart(span: Span, ms: number): number {
  return Math.floor(ms / span.ms) * span.ms;
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
  /**
   * Hour rollups of partitions the window cuts on whole minutes (its partial first or last hour):
   * their minute rows inside the window answer the counts by type and direction...
   */
  minuteRollups?: string[];
  /** ...and these partitions' event files are scanned for the addresses only (top lists, sources). */
  addressEvents?: string[];
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
 * Which files answer the window: the current span file of each whole day inside the window, then
 * of each other whole hour, else per log type and hour the current hour rollup when the hour lies wholly inside the window and
 * the rollup's run is the partition's files, else the hour's events. Rollups have minute rows, so
 * they serve only buckets that are whole minutes.
 */
export async function planStats(lakeDir: string, w: StatsWindow): Promise<StatsPlan> {
  const plan: StatsPlan = { rollups: [], events: [] };
  const hours = hoursIn(w.from, w.to);
  if (hours.length > MAX_PLANNED_HOURS) throw new UsageError(`window longer than ${MAX_PLANNED_HOURS} hours`);
  const useRollups = w.bucketSeconds % 60 === 0;
  const types = (await readdir(lakeDir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);
  // A week is ~2,200 (log type, hour) directories: their listings are cached while the directory
  // does not change (dir-listing.ts), a stat each instead of a listing.
  const paths = hours.map(hourPath);
  const wanted = types.flatMap((logType) =>
    hours.map((hour, i) => ({ logType, hour, dir: join(lakeDir, logType, paths[i]) })),
  );
  const names = await listDirsCached(wanted.map((t) => t.dir));
  const listed = wanted.map((t, i) => listedHour(t, names[i])).filter((p) => p !== null);
  let rest: readonly ListedHour[] = listed;
  for (const span of useRollups ? SPANS : []) {
    const found = await currentSpanRollups(lakeDir, span, w, rest);
    plan.rollups.push(...found.values());
    rest = rest.filter((p) => !found.has(spanStart(span, p.hour)));
  }
  for (const r of await inBatches(rest, (p) => planHour(lakeDir, p, w, useRollups))) {
    if (r.rollup) plan.rollups.push(r.rollup);
    if (r.minuteRollup) {
      plan.minuteRollups = [...(plan.minuteRollups ?? []), r.minuteRollup];
      plan.addressEvents = [...(plan.addressEvents ?? []), ...r.events];
    } else plan.events.push(...r.events);
  }
  return plan;
}

const PLAN_CONCURRENCY = 64;

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PLAN_CONCURRENCY)
    out.push(...(await Promise.all(items.slice(i, i + PLAN_CONCURRENCY).map(fn))));
  return out;
}

/** A partition of the window that holds Parquet files. */
interface ListedHour {
  logType: string;
  hour: number;
  dir: string;
  files: string[];
}

function listedHour(
  p: { logType: string; hour: number; dir: string },
  names: string[] | null,
): ListedHour | null {
  const files = (names ?? []).filter((n) => n.endsWith('.parquet') && !n.startsWith('.'));
  return files.length === 0 ? null : { ...p, files };
}

/**
 * The span files that answer the window: for each span (day or hour) wholly inside it, its file
 * when the file's signature is the signature of the span's partitions now.
 */
async function currentSpanRollups(
  lakeDir: string,
  span: Span,
  w: StatsWindow,
  listed: readonly ListedHour[],
): Promise<Map<number, string>> {
  const bySpan = new Map<number, ListedHour[]>();
  for (const p of listed) {
    const start = spanStart(span, p.hour);
    if (start < w.from || start + span.ms - 1 > w.to) continue;
    bySpan.set(start, [...(bySpan.get(start) ?? []), p]);
  }
  const out = new Map<number, string>();
  const candidates = [...bySpan].flatMap(([start, partitions]) => {
    const signature = spanSignature(partitions);
    return signature
      ? [{ start, dir: spanRollupDir(lakeDir, span, start), name: spanRollupName(span, signature) }]
      : [];
  });
  const names = await listDirsCached(candidates.map((c) => c.dir));
  candidates.forEach((c, i) => {
    if (names[i]?.includes(c.name)) out.set(c.start, join(c.dir, c.name));
  });
  return out;
}

/**
 * Whether the window's part of the hour is whole minutes: then the hour rollup's minute rows
 * inside the window count exactly its events by minute, log type and direction.
 */
export function cutOnMinutes(hour: number, w: StatsWindow): boolean {
  const lo = Math.max(hour, w.from);
  const hi = Math.min(hour + HOUR_MS - 1, w.to);
  return lo <= hi && lo % 60_000 === 0 && (hi + 1) % 60_000 === 0;
}

/**
 * One (log type, hour) of the plan: its current rollup (a whole hour), or its current rollup's
 * minute rows and its files scanned for addresses (an hour the window cuts on whole minutes), or
 * its files to scan.
 */
async function planHour(
  lakeDir: string,
  p: ListedHour,
  w: StatsWindow,
  useRollups: boolean,
): Promise<{ rollup: string | null; minuteRollup: string | null; events: string[] }> {
  const whole = p.hour >= w.from && p.hour + HOUR_MS - 1 <= w.to;
  const files = p.files.map((f) => join(p.dir, f));
  if (useRollups && (whole || cutOnMinutes(p.hour, w))) {
    const rollup = await currentHourRollup(lakeDir, p.dir, p.files);
    if (rollup && whole) return { rollup, minuteRollup: null, events: [] };
    if (rollup) return { rollup: null, minuteRollup: rollup, events: files };
  }
  return { rollup: null, minuteRollup: null, events: files };
}

/** The partition's hour rollup file when it was made from exactly the files there now. */
export async function currentHourRollup(
  lakeDir: string,
  dir: string,
  files: readonly string[],
): Promise<string | null> {
  const runs = new Set(files.map((f) => RUN_RE.exec(f)?.[1] ?? '-'));
  if (runs.size !== 1 || runs.has('-')) return null;
  const [run] = runs;
  const rollupDir = join(lakeDir, ROLLUPS_DIR, relative(lakeDir, dir));
  const names = await readdir(rollupDir).catch(() => [] as string[]);
  const name = names.find((n) => rollupRun(n) === run);
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
 * `names` replaces the two sources by names (the CTEs of statsSql).
 */
export function statsSqlFor(
  plan: StatsPlan,
  w: StatsWindow,
  names?: { events: string; rollups: string; addresses: string },
): Record<string, string> | null {
  if (planEmpty(plan)) return null;
  const bucketOf = (ts: string) =>
    `epoch_ms(time_bucket(INTERVAL '${Math.trunc(w.bucketSeconds)} seconds', ${ts}))`;
  const eventsSource = eventsSourceSql(plan, w);
  const rollupsSource = rollupsSourceSql(plan, w);
  const addressSource = addressSourceSql(plan, w);
  const events = eventsSource && names ? names.events : eventsSource;
  const rollups = rollupsSource && names ? names.rollups : rollupsSource;
  const addresses = addressSource && names ? names.addresses : addressSource;
  // `empty`: the statistic's columns when no source has its rows (only minute-cut hours' addresses).
  const parts = (fromRollup: string, fromEvents: string, fromAddresses: string | null, empty: string) =>
    [rollups ? fromRollup : null, events ? fromEvents : null, addresses ? fromAddresses : null]
      .filter((p) => p !== null)
      .join(' UNION ALL ') || `${empty} WHERE false`;
  const scanTop = (kind: 'src' | 'dst', source: string | null) =>
    `SELECT ${kind}_ip AS ip, count(*) AS n FROM ${source} WHERE ${kind}_ip IS NOT NULL GROUP BY ALL`;
  const top = (kind: 'src' | 'dst') =>
    `SELECT ip, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT key AS ip, n FROM ${rollups} WHERE kind = '${kind}'`,
      scanTop(kind, events),
      scanTop(kind, addresses),
      'SELECT NULL::VARCHAR AS ip, 0::BIGINT AS n',
    )}) GROUP BY ALL ORDER BY n DESC, ip LIMIT 10`;
  return {
    by_type: `SELECT t, log_type, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT ${bucketOf('make_timestamp(t * 1000)')} AS t, log_type, n FROM ${rollups} WHERE kind = 'minute'`,
      `SELECT ${bucketOf('event_time')} AS t, log_type, count(*) AS n FROM ${events} GROUP BY ALL`,
      null,
      'SELECT NULL::BIGINT AS t, NULL::VARCHAR AS log_type, 0::BIGINT AS n',
    )}) GROUP BY ALL ORDER BY t, log_type`,
    top_src: top('src'),
    top_dst: top('dst'),
    direction: `SELECT direction, sum(n)::BIGINT AS n FROM (${parts(
      `SELECT key AS direction, n FROM ${rollups} WHERE kind = 'minute'`,
      `SELECT coalesce(direction, 'unknown') AS direction, count(*) AS n FROM ${events} GROUP BY ALL`,
      null,
      'SELECT NULL::VARCHAR AS direction, 0::BIGINT AS n',
    )}) GROUP BY ALL ORDER BY n DESC, direction`,
  };
}

const STATS_COLUMNS = ['log_type', 'event_time', 'direction', 'src_ip', 'dst_ip'];

function eventsSourceSql(
  plan: StatsPlan,
  w: StatsWindow,
  columns = STATS_COLUMNS,
  where = '',
): string | null {
  if (plan.events.length === 0) return null;
  const fromTs = `make_timestamp(${Math.trunc(w.from) * 1000})`;
  const toTs = `make_timestamp(${Math.trunc(w.to) * 1000})`;
  return `(SELECT ${columns.join(', ')} FROM read_parquet(${list(plan.events)}, union_by_name = true, hive_partitioning = false) WHERE event_time >= ${fromTs} AND event_time <= ${toTs}${where})`;
}

/**
 * The top `limit` sources from outside (externalSourceSql) over a plan, `(ip, n, targets)`: the
 * `ext` pairs of its rollups and a scan of the rest, `targets` the distinct destinations. Null
 * when the plan is empty.
 */
export function externalSourcesSql(plan: StatsPlan, w: StatsWindow, limit: number): string | null {
  const parts: string[] = [];
  const rollups = rollupsSourceSql({ ...plan, minuteRollups: [] }, w);
  if (rollups) parts.push(`SELECT key AS ip, key2 AS dst, n FROM ${rollups} WHERE kind = 'ext'`);
  // The minute-rollup partitions have no pairs from their rollup: scanned like the other hours.
  const events = eventsSourceSql(
    { rollups: [], events: [...plan.events, ...(plan.addressEvents ?? [])] },
    w,
    ['src_ip', 'dst_ip', 'direction', 'src_in_home', 'src_ip_is_private'],
    ` AND src_ip IS NOT NULL AND ${externalSourceSql()}`,
  );
  if (events) parts.push(`SELECT src_ip AS ip, dst_ip AS dst, count(*) AS n FROM ${events} GROUP BY ALL`);
  if (parts.length === 0) return null;
  return (
    `SELECT ip, sum(n)::BIGINT AS n, count(DISTINCT dst)::BIGINT AS targets FROM (${parts.join(' UNION ALL ')}) ` +
    `GROUP BY ip ORDER BY n DESC, ip LIMIT ${Math.trunc(limit)}`
  );
}

function planEmpty(plan: StatsPlan): boolean {
  return (
    plan.rollups.length === 0 &&
    plan.events.length === 0 &&
    (plan.minuteRollups ?? []).length === 0 &&
    (plan.addressEvents ?? []).length === 0
  );
}

/** The plan's rollup rows: its rollups' rows and its minute rollups' minute rows inside the window. */
function rollupsSourceSql(plan: StatsPlan, w: StatsWindow): string | null {
  // Every rollup has rollupSql's columns: no union_by_name (it would read every footer to bind).
  const read = (files: readonly string[]) =>
    `read_parquet(${list(files)}, union_by_name = false, hive_partitioning = false)`;
  const minutes = plan.minuteRollups ?? [];
  if (minutes.length === 0) return plan.rollups.length === 0 ? null : read(plan.rollups);
  const minuteRows = `SELECT kind, t, log_type, key, key2, n FROM ${read(minutes)} WHERE kind = 'minute' AND t >= ${Math.trunc(w.from)} AND t <= ${Math.trunc(w.to)}`;
  if (plan.rollups.length === 0) return `(${minuteRows})`;
  return `(SELECT kind, t, log_type, key, key2, n FROM ${read(plan.rollups)} UNION ALL ${minuteRows})`;
}

/** The addresses of the events of the plan's minute-rollup partitions inside the window. */
function addressSourceSql(plan: StatsPlan, w: StatsWindow): string | null {
  return eventsSourceSql({ rollups: [], events: plan.addressEvents ?? [] }, w, ['src_ip', 'dst_ip']);
}

/** The order of each statistic's rows (statsSql's one statement returns them unordered). */
const STAT_SHAPES = {
  by_type: {
    columns: ['t', 'log_type', 'n'],
    order: (a: StatRow, b: StatRow) => cmp(a.t, b.t) || cmp(a.k, b.k),
  },
  top_src: { columns: ['ip', 'n'], order: (a: StatRow, b: StatRow) => cmp(b.n, a.n) || cmp(a.k, b.k) },
  top_dst: { columns: ['ip', 'n'], order: (a: StatRow, b: StatRow) => cmp(b.n, a.n) || cmp(a.k, b.k) },
  direction: {
    columns: ['direction', 'n'],
    order: (a: StatRow, b: StatRow) => cmp(b.n, a.n) || cmp(a.k, b.k),
  },
} as const;

interface StatRow {
  t: number | null;
  k: string | null;
  n: number;
}

function cmp(a: number | string | null, b: number | string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * The four statistics in one statement: the window's events (the hours without a rollup) and its
 * rollups are each read once (MATERIALIZED CTEs) instead of once per statistic — every read of a
 * Parquet file parses its footer again. Rows are `(stat, t, k, n)`; statsRows shapes them.
 */
export function statsSql(plan: StatsPlan, w: StatsWindow): string | null {
  const parts = statsSqlFor(plan, w, { events: 'ev', rollups: 'ro', addresses: 'ea' });
  if (!parts) return null;
  const ctes: string[] = [];
  const events = eventsSourceSql(plan, w);
  const rollups = rollupsSourceSql(plan, w);
  const addresses = addressSourceSql(plan, w);
  if (events) ctes.push(`ev AS MATERIALIZED ${events}`);
  if (addresses) ctes.push(`ea AS MATERIALIZED ${addresses}`);
  if (rollups)
    ctes.push(`ro AS MATERIALIZED (SELECT kind, t, log_type, key, n FROM ${rollups} WHERE kind <> 'ext')`);
  const select = (stat: string, t: string, k: string) =>
    `SELECT '${stat}' AS stat, ${t}::BIGINT AS t, ${k}::VARCHAR AS k, n::BIGINT AS n FROM (${parts[stat]})`;
  return `WITH ${ctes.join(', ')} ${[
    select('by_type', 't', 'log_type'),
    select('top_src', 'NULL', 'ip'),
    select('top_dst', 'NULL', 'ip'),
    select('direction', 'NULL', 'direction'),
  ].join(' UNION ALL ')}`;
}

/** statsSql's rows as /api/stats's four lists, each in its order. */
export function statsRows(rows: readonly unknown[][]): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  const grouped: Record<string, StatRow[]> = {};
  for (const [stat, t, k, n] of rows) {
    const key = String(stat);
    grouped[key] ??= [];
    grouped[key].push({ t: t === null ? null : Number(t), k: k === null ? null : String(k), n: Number(n) });
  }
  for (const [stat, shape] of Object.entries(STAT_SHAPES)) {
    const list = (grouped[stat] ?? []).sort(shape.order);
    out[stat] = list.map((r) =>
      shape.columns.length === 3 ? { t: r.t, log_type: r.k, n: r.n } : { [shape.columns[0]]: r.k, n: r.n },
    );
  }
  return out;
}
