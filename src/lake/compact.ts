import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../core/sql.ts';
import { fsyncPath } from '../sinks/parquet/writer.ts';

/**
 * `socstream lake compact`: per hour partition, merge the small files of the writer into one and
 * drop duplicate ids (at-least-once delivery writes a replayed batch twice; the ids are
 * deterministic, so the copies are identical events).
 *
 * The swap: write the merged file under a temp name, fsync, rename it into the partition, fsync
 * the directory, and only then delete the files it replaced. A crash before the rename leaves a
 * temp file (ignored by readers, swept later); a crash after it leaves the merged file next to the
 * old ones — duplicates, never loss — and the next compaction removes them. Files the writer adds
 * while a partition is compacted are not touched (only the listed inputs are deleted).
 */
export interface CompactOptions {
  lakeDir: string;
  /** Only partitions with at least this many files (default 2); 1 also dedupes single files. */
  minFiles?: number;
  /** Temp files older than this are crash left-overs and deleted (default 10 min). */
  staleTempMs?: number;
}

export interface CompactStats {
  partitions: number;
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  duplicatesDropped: number;
  staleTempsRemoved: number;
}

const DEFAULT_STALE_TEMP_MS = 10 * 60_000;

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

export async function compactLake(options: CompactOptions): Promise<CompactStats> {
  const minFiles = options.minFiles ?? 2;
  const staleBefore = Date.now() - (options.staleTempMs ?? DEFAULT_STALE_TEMP_MS);
  const stats: CompactStats = {
    partitions: 0,
    filesBefore: 0,
    filesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    duplicatesDropped: 0,
    staleTempsRemoved: 0,
  };
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const { logType, dir } of await hourPartitions(options.lakeDir)) {
      const names = await readdir(dir);
      for (const name of names) {
        if (!name.endsWith('.tmp')) continue;
        const info = await stat(join(dir, name)).catch(() => null);
        if (info && info.mtimeMs < staleBefore) {
          await rm(join(dir, name), { force: true });
          stats.staleTempsRemoved++;
        }
      }
      const inputs = names.filter((n) => n.endsWith('.parquet')).map((n) => join(dir, n));
      if (inputs.length < minFiles || inputs.length === 0) continue;
      const list = `[${inputs.map(sqlString).join(', ')}]`;
      const source = `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
      const before = await connection.runAndReadAll(`SELECT count(*)::BIGINT FROM ${source}`);
      const rowsBefore = Number(before.getRows()[0][0]);
      const name = `events_${logType}_${Date.now()}_${randomBytes(5).toString('hex')}_c.parquet`;
      const tempPath = join(dir, `.${name}.tmp`);
      // DISTINCT ON keeps one row per id (the copies are the same event, which one is irrelevant);
      // sorting by event_time keeps row-group statistics tight for time filters.
      await connection.run(
        `COPY (SELECT * FROM (SELECT DISTINCT ON (id) * FROM ${source}) ORDER BY event_time, id) ` +
          `TO ${sqlString(tempPath)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const after = await connection.runAndReadAll(
        `SELECT count(*)::BIGINT FROM read_parquet(${sqlString(tempPath)})`,
      );
      const rowsAfter = Number(after.getRows()[0][0]);
      await fsyncPath(tempPath);
      await rename(tempPath, join(dir, name));
      await fsyncPath(dir);
      for (const input of inputs) await rm(input, { force: true });
      stats.partitions++;
      stats.filesBefore += inputs.length;
      stats.filesAfter++;
      stats.rowsBefore += rowsBefore;
      stats.rowsAfter += rowsAfter;
      stats.duplicatesDropped += rowsBefore - rowsAfter;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return stats;
}
