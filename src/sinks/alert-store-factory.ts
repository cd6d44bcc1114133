import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { AlertStore } from './alert-store.ts';
import { PostgresAlertStore } from './alert-store-postgres.ts';
import { SqliteAlertStore } from './alert-store-sqlite.ts';

export type AlertStoreConfig = Config['alert_store'];

export interface AlertStoreOptions {
  /** PostgreSQL schema (tests use a random one); default `public`. */
  schema?: string;
}

/** The configured store; `create` does no I/O (call start()). Relative SQLite paths are under dataDir's parent. */
export function createAlertStore(
  config: AlertStoreConfig,
  dataDir: string,
  options: AlertStoreOptions = {},
): AlertStore {
  if (config.type === 'postgres') {
    if (!config.postgres_url) {
      throw new ConfigError('alert_store.postgres_url is required when alert_store.type is postgres');
    }
    return new PostgresAlertStore({ connectionString: config.postgres_url, schema: options.schema });
  }
  return new SqliteAlertStore({ path: sqlitePath(config.sqlite_path, dataDir) });
}

/**
 * The default `.data/socstream.db` is relative to the working directory like data_dir itself; a
 * bare file name (no directory part) goes into dataDir.
 */
export function sqlitePath(path: string, dataDir: string): string {
  if (path === ':memory:' || isAbsolute(path) || path.includes('/')) return path;
  return join(dataDir, path);
}
