import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The partition levels below a log type directory: `year=YYYY/month=MM/day=DD/hour=HH`. */
const LEVELS = ['year', 'month', 'day', 'hour'] as const;

/** [start, end) in ms of the year, month, day or hour named by `parts` (1 to 4 numbers, UTC). */
export function unitRange(parts: readonly number[]): [number, number] {
  const [y, m = 1, d = 1, h = 0] = parts;
  const start = Date.UTC(y, m - 1, d, h);
  const next = [Date.UTC(y + 1, 0, 1), Date.UTC(y, m, 1), Date.UTC(y, m - 1, d + 1), start + 3_600_000];
  return [start, next[parts.length - 1]];
}

/** The log type directories of the lake (hidden ones, such as `.rollups` or `.schemas`, are not). */
async function logTypeDirs(lakeDir: string): Promise<string[]> {
  const entries = await readdir(lakeDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

interface HourDir {
  start: number;
  dir: string;
}

/** The hour directories under `dir` (at partition level `depth`) that overlap [from, to]. */
async function hourDirs(
  dir: string,
  depth: number,
  parts: readonly number[],
  span: { from?: number; to?: number },
): Promise<HourDir[]> {
  const level = LEVELS[depth];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const below = await Promise.all(
    entries.map(async (e) => {
      if (!e.isDirectory() || !e.name.startsWith(`${level}=`)) return [];
      const value = Number(e.name.slice(level.length + 1));
      if (!Number.isInteger(value)) return [];
      const here = [...parts, value];
      const [start, end] = unitRange(here);
      if ((span.from !== undefined && end <= span.from) || (span.to !== undefined && start > span.to))
        return [];
      const path = join(dir, e.name);
      return depth === LEVELS.length - 1 ? [{ start, dir: path }] : hourDirs(path, depth + 1, here, span);
    }),
  );
  return below.flat();
}

/** The finished Parquet files of one hour directory (not the writers' or compaction's hidden temps). */
async function partitionFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith('.parquet') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * The Parquet files of the hour partitions that overlap [from, to] (either end open), of one log
 * type, of several, of all (but some), oldest hour first: what a search over that span reads, found by walking only the
 * year, month, day and hour directories that overlap it. A view's glob lists every file of the lake
 * before the hive filter drops most of them (over a week's 2,000+ files, ~1 s a query on the shared
 * machine), and binds its columns from the glob's first file however old it is: one unreadable
 * file in a log type's oldest hour failed every search of that log type.
 */
export async function hourFiles(
  lakeDir: string,
  span: {
    logType?: string;
    /** Several log types (instead of logType). */
    logTypes?: readonly string[];
    /** Every log type but these. */
    exceptLogTypes?: readonly string[];
    from?: number;
    to?: number;
  },
): Promise<string[]> {
  if (span.from !== undefined && span.to !== undefined && span.to < span.from) return [];
  const listed = span.logTypes ?? (span.logType ? [span.logType] : await logTypeDirs(lakeDir));
  const types = span.exceptLogTypes ? listed.filter((t) => !span.exceptLogTypes?.includes(t)) : listed;
  const dirs = (await Promise.all(types.map((t) => hourDirs(join(lakeDir, t), 0, [], span)))).flat();
  dirs.sort((a, b) => a.start - b.start || a.dir.localeCompare(b.dir));
  return (await Promise.all(dirs.map((d) => partitionFiles(d.dir)))).flat();
}
