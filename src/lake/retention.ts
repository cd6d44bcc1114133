import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { hourPartitions, partitionStartMs } from './compact.ts';
import { ROLLUPS_DIR, SPANS, spanRollupDir, spanStart } from './rollup.ts';

/**
 * `socstream lake retention --days N`: drops every hour partition that ended more than N days ago
 * (by its directory name, i.e. event time UTC), then the day/month/year directories left empty.
 * A whole directory goes at once, so a query sees an hour either complete or absent.
 */
export interface RetentionOptions {
  lakeDir: string;
  days: number;
  /** Clock for tests; default Date.now(). */
  nowMs?: number;
}

export interface RetentionStats {
  partitionsDropped: number;
  partitionsKept: number;
  /** Hour partitions that started before this (epoch ms) were dropped. */
  cutoffMs: number;
}

const HOUR_MS = 3_600_000;

export async function applyRetention(options: RetentionOptions): Promise<RetentionStats> {
  const now = options.nowMs ?? Date.now();
  const cutoffMs = now - options.days * 24 * HOUR_MS;
  const stats: RetentionStats = { partitionsDropped: 0, partitionsKept: 0, cutoffMs };
  const spansCut = new Set<string>();
  for (const { dir } of await hourPartitions(options.lakeDir)) {
    const start = partitionStartMs(dir);
    if (start === null) continue;
    // The hour must have ended before the cutoff: an hour partly inside the window is kept.
    if (start + HOUR_MS <= cutoffMs) {
      await rm(dir, { recursive: true, force: true });
      stats.partitionsDropped++;
      await removeEmptyParents(options.lakeDir, dirname(dir));
      // The hour's aggregates (rollup.ts) go with it.
      const rollupDir = join(options.lakeDir, ROLLUPS_DIR, relative(options.lakeDir, dir));
      await rm(rollupDir, { recursive: true, force: true });
      await removeEmptyParents(join(options.lakeDir, ROLLUPS_DIR), dirname(rollupDir));
      for (const span of SPANS) spansCut.add(spanRollupDir(options.lakeDir, span, spanStart(span, start)));
    } else {
      stats.partitionsKept++;
    }
  }
  // A span rollup (day, hour) sums its partitions: one that lost some no longer answers (its
  // signature is not the span's); removed here, made again for what is kept by the next compactor run.
  for (const dir of spansCut) await rm(dir, { recursive: true, force: true });
  return stats;
}

/** Removes day=/month=/year= directories that became empty, never the log type dir or the lake. */
async function removeEmptyParents(lakeDir: string, dir: string): Promise<void> {
  let current = dir;
  while (relative(lakeDir, current).split(sep).length > 1) {
    const entries = await readdir(current).catch(() => null);
    if (entries === null || entries.length > 0) return;
    await rmdir(current).catch(() => {});
    current = dirname(current);
  }
}
