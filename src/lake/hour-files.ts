import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hourPartitions, partitionStartMs } from './compact.ts';

const HOUR_MS = 3_600_000;
/** Windows up to this long are listed hour by hour; longer or open ones by walking the tree. */
const MAX_LISTED_HOURS = 24 * 8;

function hourPath(hourMs: number): string {
  const iso = new Date(hourMs).toISOString();
  return join(
    `year=${iso.slice(0, 4)}`,
    `month=${iso.slice(5, 7)}`,
    `day=${iso.slice(8, 10)}`,
    `hour=${iso.slice(11, 13)}`,
  );
}

/**
 * The Parquet files of the hour partitions that overlap [from, to] (either open), of one log type
 * or of all: what a query over that window reads, without globbing the whole lake (a glob over a
 * week's 2,000+ files, with hive partition pruning, cost ~1 s a query on the shared machine).
 */
export async function hourFiles(
  lakeDir: string,
  options: { logType?: string; from?: number; to?: number },
): Promise<string[]> {
  const { from, to } = options;
  const types = options.logType
    ? [options.logType]
    : (await readdir(lakeDir, { withFileTypes: true }).catch(() => []))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name);
  const files: string[] = [];
  const add = async (dir: string) => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) if (n.endsWith('.parquet') && !n.startsWith('.')) files.push(join(dir, n));
  };
  if (from !== undefined && to !== undefined && (to - from) / HOUR_MS <= MAX_LISTED_HOURS) {
    for (const type of types) {
      for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h <= to; h += HOUR_MS)
        await add(join(lakeDir, type, hourPath(h)));
    }
    return files;
  }
  const wanted = new Set(types);
  for (const { logType, dir } of await hourPartitions(lakeDir)) {
    if (!wanted.has(logType)) continue;
    const start = partitionStartMs(dir);
    if (start === null) continue;
    if (from !== undefined && start + HOUR_MS <= from) continue;
    if (to !== undefined && start > to) continue;
    await add(dir);
  }
  return files;
}
