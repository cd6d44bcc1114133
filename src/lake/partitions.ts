import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The lake's hour partitions as directories and files: `<lake>/<log_type>/year=/month=/day=/hour=`,
 * a compaction run's outputs `…_<run>-<k>of<K>_c.parquet`. Shared by compaction (compact.ts), the
 * rollups (rollup-build.ts) and retention; no DuckDB here.
 */
const HOUR_MS = 3_600_000;
/** Hidden per-run directory of bucket stage files (five levels below the lake: readers skip it). */
export const STAGE_PREFIX = '.stage_';
const PARTITION_RE = /year=(\d{4})[\\/]month=(\d{2})[\\/]day=(\d{2})[\\/]hour=(\d{2})$/;
/** `<anything>_<run>-<k>of<K>_c.parquet`: the output of compaction run `<run>`. */
const OUTPUT_RE = /_([0-9]+_[0-9a-f]+)-(\d+)of(\d+)_c\.parquet$/;

/** Start of the hour a partition directory holds, or null when the path is not a partition. */
export function partitionStartMs(dir: string): number | null {
  const m = PARTITION_RE.exec(dir);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

/** Every hour partition directory: `<lake>/<log_type>/year=/month=/day=/hour=`. */
export async function hourPartitions(lakeDir: string): Promise<Array<{ logType: string; dir: string }>> {
  const out: Array<{ logType: string; dir: string }> = [];
  const types = await readdir(lakeDir, { withFileTypes: true }).catch(() => []);
  for (const type of types) {
    if (!type.isDirectory() || type.name.startsWith('.')) continue;
    const entries = await readdir(join(lakeDir, type.name), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (e.isDirectory() && e.name.startsWith('hour='))
        out.push({ logType: type.name, dir: join(e.parentPath, e.name) });
    }
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

export interface PartitionFile {
  name: string;
  bytes: number;
}

/** The run id when `files` are exactly the complete output of one compaction run, else null. */
export function completedRun(files: readonly PartitionFile[]): string | null {
  if (files.length === 0) return null;
  let run: string | null = null;
  const parts = new Set<number>();
  for (const f of files) {
    const m = OUTPUT_RE.exec(f.name);
    if (!m || Number(m[3]) !== files.length) return null;
    if (run !== null && m[1] !== run) return null;
    run = m[1];
    parts.add(Number(m[2]));
  }
  return parts.size === files.length ? run : null;
}

/** True once the hour of `dir` ended at least closeAfterMs before now. */
export function isClosed(dir: string, nowMs: number, closeAfterMs: number): boolean {
  const start = partitionStartMs(dir);
  return start !== null && start + HOUR_MS + closeAfterMs <= nowMs;
}

export async function listPartition(dir: string): Promise<{ files: PartitionFile[]; temps: string[] }> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: PartitionFile[] = [];
  const temps: string[] = [];
  for (const name of names) {
    if (name.endsWith('.tmp') || name.startsWith(STAGE_PREFIX)) temps.push(name);
    else if (name.endsWith('.parquet') && !name.startsWith('.')) {
      const info = await stat(join(dir, name)).catch(() => null);
      if (info) files.push({ name, bytes: info.size });
    }
  }
  return { files: files.sort((a, b) => a.name.localeCompare(b.name)), temps };
}
