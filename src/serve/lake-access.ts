import { availableParallelism } from 'node:os';
import type { Health } from '../core/component.ts';
import { hourFiles } from '../lake/hour-files.ts';
import {
  LakeQuery,
  lakeLogTypes,
  type QueryOptions,
  type QueryResult,
  readParquetFilesSql,
} from '../lake/query.ts';
import { createQueryPool, type QueryPool } from '../lake/query-pool.ts';
import {
  externalSourcesSql,
  planStats,
  type StatsPlan,
  type StatsWindow,
  statsRows,
  statsSql,
} from '../lake/rollup.ts';

/**
 * The API's two ways into the lake: `query` runs SQL the server built itself (values escaped),
 * `sandbox` runs an admin's SQL in DuckDB's locked-down mode. Both see new log types as the lake
 * grows: the trusted connection refreshes its views, the sandbox (locked, so it cannot create
 * views any more) is reopened.
 *
 * Limits: two DuckDB instances, each with its own `memory_limit` and threads, and two query pools
 * (query-pool.ts): viewers' queries (events, stats, alert details) and admins' SQL never wait for
 * each other's slots. Each query has a deadline that holds from the moment it is asked: waiting for
 * a slot counts, a query whose deadline passed never starts, and a running one is interrupted
 * until it ends. DuckDB's calls run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE
 * says otherwise), so the pools together stay below it by default: file I/O keeps a thread.
 */
export interface LakeAccess {
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  sandbox(sql: string, options?: QueryOptions): Promise<QueryResult>;
  /** /api/stats's four statistics over the window (rollups of compacted hours + a scan of the rest). */
  stats(window: StatsWindow, options?: QueryOptions): Promise<Record<string, Record<string, unknown>[]>>;
  /**
   * `query` over the files of the hours that overlap [from, to] (either end open), of one log type
   * or of all (lake/hour-files.ts), rather than a view's glob of the whole lake: `sqlFor` gets the
   * FROM source, a read_parquet(...) of those files (oldest hour first, or newest first) with the
   * views' columns. No file there: no rows. Compaction may replace a listed file before DuckDB
   * opens it: then the span is listed and run again, once.
   */
  queryFiles(
    span: FileSpan,
    sqlFor: (source: string) => string,
    options?: QueryOptions,
  ): Promise<QueryResult>;
  /**
   * The top `limit` sources from outside over [from, to] (`ip`, `n` events, `targets` distinct
   * destinations): the `ext` rows of the rollups of whole hours and days, a scan of the rest.
   */
  externalSources(
    window: { from: number; to: number; limit: number },
    options?: QueryOptions,
  ): Promise<Array<{ ip: string; n: number; targets: number }>>;
  /** The lake's views now (refreshed when new log types appeared). */
  views(): Promise<string[]>;
  healthcheck(): Promise<Health>;
  close(): void;
}

/** Which files a query over listed files reads (LakeAccess.queryFiles). */
export interface FileSpan {
  logType?: string;
  /** Several log types (instead of logType). */
  logTypes?: readonly string[];
  /** Every log type but these. */
  exceptLogTypes?: readonly string[];
  from?: number;
  to?: number;
  /** List the newest hour's files first (a LIMIT then stops in the newest hours). */
  newestFirst?: boolean;
}

/** A listed file gone before DuckDB opened it (compaction replaced the hour's files meanwhile). */
const FILE_GONE = /No files found|No such file|Cannot open file/i;

export interface LakeLimits {
  /** DuckDB memory_limit of each instance (viewers', admins'), MB. */
  memoryLimitMb: number;
  /** DuckDB threads of the viewers' instance; the admins' gets half (at least 1). */
  threads: number;
  viewerConcurrency: number;
  viewerQueue: number;
  sqlConcurrency: number;
  sqlQueue: number;
}

export const DEFAULT_LAKE_LIMITS: LakeLimits = {
  memoryLimitMb: 512,
  threads: Math.max(1, Math.min(4, availableParallelism())),
  viewerConcurrency: 2,
  viewerQueue: 32,
  sqlConcurrency: 1,
  sqlQueue: 4,
};

export async function openLakeAccess(
  lakeDir: string,
  options: {
    refreshMs?: number;
    limits?: Partial<LakeLimits>;
    onReject?: (pool: string, reason: 'busy' | 'timeout') => void;
  } = {},
): Promise<LakeAccess> {
  const refreshMs = options.refreshMs ?? 5000;
  const limits = { ...DEFAULT_LAKE_LIMITS, ...options.limits };
  const memoryLimit = `${limits.memoryLimitMb}MB`;
  const sqlThreads = Math.max(1, Math.floor(limits.threads / 2));
  const openLocked = () => LakeQuery.open({ lakeDir, locked: true, threads: sqlThreads, memoryLimit });
  let trusted = await LakeQuery.open({ lakeDir, threads: limits.threads, memoryLimit });
  let locked = await openLocked();
  const viewers: QueryPool = createQueryPool({
    name: 'viewer',
    maxConcurrent: limits.viewerConcurrency,
    maxQueued: limits.viewerQueue,
    onReject: (reason) => options.onReject?.('viewer', reason),
  });
  const admins: QueryPool = createQueryPool({
    name: 'sql',
    maxConcurrent: limits.sqlConcurrency,
    maxQueued: limits.sqlQueue,
    onReject: (reason) => options.onReject?.('sql', reason),
  });
  let known = (await lakeLogTypes(lakeDir)).join(',');
  let checkedAt = 0;
  let refreshing: Promise<void> | null = null;

  async function refreshIfChanged(): Promise<void> {
    if (Date.now() - checkedAt < refreshMs) return;
    refreshing ??= (async () => {
      checkedAt = Date.now();
      const types = (await lakeLogTypes(lakeDir)).join(',');
      if (types === known) return;
      known = types;
      await trusted.refresh();
      const fresh = await openLocked();
      const old = locked;
      locked = fresh;
      old.close();
    })().finally(() => {
      refreshing = null;
    });
    await refreshing;
  }

  /** The deadline of a query asked now: waiting for a slot counts against its time limit. */
  function withDeadline(opts: QueryOptions | undefined): QueryOptions & { deadline: number } {
    return { ...opts, deadline: opts?.deadline ?? performance.now() + (opts?.timeoutMs ?? 10_000) };
  }

  async function query(sql: string, opts?: QueryOptions): Promise<QueryResult> {
    const o = withDeadline(opts);
    await refreshIfChanged();
    return viewers.run(o.deadline, () => trusted.query(sql, o));
  }

  /**
   * A statement over the window's plan (planStats: rollups + the events of the other hours). The
   * compactor may delete a planned file between planning and reading: plan again once.
   */
  async function queryPlanned(
    window: StatsWindow,
    sqlOf: (plan: StatsPlan) => string | null,
    o: QueryOptions,
  ): Promise<unknown[][] | null> {
    for (let attempt = 0; ; attempt++) {
      const sql = sqlOf(await planStats(lakeDir, window));
      if (!sql) return null;
      try {
        return (await query(sql, o)).rows as unknown[][];
      } catch (err) {
        const missing = /No files found|No such file|Cannot open file/i.test((err as Error).message);
        if (!missing || attempt >= 1) throw err;
      }
    }
  }

  return {
    query,
    async sandbox(sql, opts) {
      const o = withDeadline(opts);
      await refreshIfChanged();
      return admins.run(o.deadline, () => locked.query(sql, o));
    },
    async stats(window, opts) {
      const o = withDeadline(opts);
      // One statement for the four statistics: the rollups are read once, not four times.
      // Rows: buckets × log types plus 30 (the four statistics' own caps are in the SQL).
      const rows = await queryPlanned(window, (plan) => statsSql(plan, window), {
        ...o,
        maxRows: o.maxRows ?? 1_000_000,
      });
      return rows ? statsRows(rows) : { by_type: [], top_src: [], top_dst: [], direction: [] };
    },
    async externalSources(window, opts) {
      const w = { from: window.from, to: window.to, bucketSeconds: 60 };
      const rows = await queryPlanned(
        w,
        (plan) => externalSourcesSql(plan, w, window.limit),
        withDeadline(opts),
      );
      return (rows ?? []).map(([ip, n, targets]) => ({
        ip: String(ip),
        n: Number(n),
        targets: Number(targets),
      }));
    },
    async queryFiles(span, sqlFor, opts) {
      const o = withDeadline(opts);
      for (let attempt = 0; ; attempt++) {
        const files = await hourFiles(trusted.lakeDir, span);
        if (files.length === 0) return { columns: [], rows: [], truncated: false, elapsedMs: 0 };
        if (span.newestFirst) files.reverse();
        try {
          return await query(sqlFor(readParquetFilesSql(files, trusted.unionByName)), o);
        } catch (err) {
          if (attempt >= 1 || !FILE_GONE.test((err as Error).message)) throw err;
        }
      }
    },
    async views() {
      await refreshIfChanged();
      return trusted.views();
    },
    async healthcheck() {
      try {
        await trusted.query('SELECT 1', { timeoutMs: 2000 });
        return {
          ok: true,
          detail: `${trusted.views().length} views; queries running ${viewers.running()}+${admins.running()}, waiting ${viewers.queued()}+${admins.queued()}`,
        };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    close() {
      trusted.close();
      locked.close();
      // Reset so a late call fails loudly instead of using a closed instance.
      trusted = locked = undefined as unknown as LakeQuery;
    },
  };
}
