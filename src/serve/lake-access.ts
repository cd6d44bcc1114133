import type { Health } from '../core/component.ts';
import { LakeQuery, lakeLogTypes, type QueryOptions, type QueryResult } from '../lake/query.ts';

/**
 * The API's two ways into the lake: `query` runs SQL the server built itself (values escaped),
 * `sandbox` runs an admin's SQL in DuckDB's locked-down mode. Both see new log types as the lake
 * grows: the trusted connection refreshes its views, the sandbox (locked, so it cannot create
 * views any more) is reopened.
 */
export interface LakeAccess {
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  sandbox(sql: string, options?: QueryOptions): Promise<QueryResult>;
  /** The lake's views now (refreshed when new log types appeared). */
  views(): Promise<string[]>;
  healthcheck(): Promise<Health>;
  close(): void;
}

export async function openLakeAccess(
  lakeDir: string,
  options: { refreshMs?: number } = {},
): Promise<LakeAccess> {
  const refreshMs = options.refreshMs ?? 5000;
  let trusted = await LakeQuery.open({ lakeDir, threads: 1 });
  let locked = await LakeQuery.open({ lakeDir, locked: true, threads: 1 });
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
      const fresh = await LakeQuery.open({ lakeDir, locked: true, threads: 1 });
      const old = locked;
      locked = fresh;
      old.close();
    })().finally(() => {
      refreshing = null;
    });
    await refreshing;
  }

  return {
    async query(sql, opts) {
      await refreshIfChanged();
      return trusted.query(sql, opts);
    },
    async sandbox(sql, opts) {
      await refreshIfChanged();
      return locked.query(sql, opts);
    },
    async views() {
      await refreshIfChanged();
      return trusted.views();
    },
    async healthcheck() {
      try {
        await trusted.query('SELECT 1', { timeoutMs: 2000 });
        return { ok: true, detail: `${trusted.views().length} views` };
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
