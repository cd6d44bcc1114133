import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { z } from 'zod';
import { d } from '../core/describe.ts';
import { StoreUnavailableError } from '../core/errors.ts';
import type { AlertStoreDefinition } from './alert-store.ts';
import {
  SQLITE_DIALECT,
  SqlAlertStore,
  type SqlDatabase,
  type SqlResult,
  type SqlSession,
  type SqlValue,
} from './alert-store-sql.ts';

/**
 * The embedded alert store on `node:sqlite` (WAL, so the API can read while the pipeline writes).
 * The calls are synchronous underneath; the store's work (alert-store-sql.ts) is async, so the
 * connection runs one piece of it at a time: a transaction never interleaves with another. Migrations are versioned
 * in `socstream_migrations`, like the PostgreSQL store.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'alerts and history',
    sql: `
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        rule_title TEXT NOT NULL,
        level TEXT NOT NULL,
        tags TEXT NOT NULL,
        group_json TEXT NOT NULL,
        entity TEXT,
        count INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        event_ids TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL,
        assignee TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX alerts_last_seen ON alerts (last_seen DESC, id DESC);
      CREATE INDEX alerts_status ON alerts (status, last_seen DESC);
      CREATE INDEX alerts_rule ON alerts (rule_id, last_seen DESC);
      CREATE INDEX alerts_entity ON alerts (entity, last_seen DESC);
      CREATE TABLE alert_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        from_value TEXT,
        to_value TEXT,
        note TEXT
      );
      CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);
      -- Append-only: the history cannot be edited or deleted through SQL either.
      CREATE TRIGGER alert_history_no_update BEFORE UPDATE ON alert_history
        BEGIN SELECT RAISE(ABORT, 'alert_history is append-only'); END;
      CREATE TRIGGER alert_history_no_delete BEFORE DELETE ON alert_history
        BEGIN SELECT RAISE(ABORT, 'alert_history is append-only'); END;
    `,
  },
];

export interface SqliteAlertStoreOptions {
  path: string;
}

/** The shared SQL store on a SQLite file (or `:memory:`). */
export class SqliteAlertStore extends SqlAlertStore {
  constructor(options: SqliteAlertStoreOptions) {
    super(new SqliteDatabase(options.path));
  }
}

/** Its keys of the `alert_store:` section (moved from src/config/schema.ts). */
export const sqliteAlertStoreConfig = z
  .object({
    sqlite_path: d(
      z.string().default('socstream.db'),
      'SQLite file (WAL mode); a bare file name (the default) is placed in data_dir',
    ),
  })
  .strict();

/**
 * A bare file name (no directory part, the default `socstream.db`) goes into dataDir, so the alert
 * store follows data_dir (`.data/socstream.db` with the default data_dir); a path with a directory
 * is taken as given (relative to the working directory).
 */
export function sqlitePath(path: string, dataDir: string): string {
  if (path === ':memory:' || isAbsolute(path) || path.includes('/')) return path;
  return join(dataDir, path);
}

export const sqliteAlertStore: AlertStoreDefinition<z.infer<typeof sqliteAlertStoreConfig>> = {
  type: 'sqlite',
  kind: 'alert_store',
  section: 'alert_store',
  summary: 'Embedded alert store: one SQLite file in WAL mode, migrations applied at start',
  config: sqliteAlertStoreConfig,
  example: { sqlite_path: 'alerts.db' },
  create: (config, ctx) => new SqliteAlertStore({ path: sqlitePath(config.sqlite_path, ctx.dataDir) }),
};

class SqliteDatabase implements SqlDatabase {
  readonly dialect = SQLITE_DIALECT;
  readonly #path: string;
  #db: DatabaseSync | null = null;
  /** The tail of the work queued on the one connection. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  async open(): Promise<void> {
    try {
      if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true });
      const db = new DatabaseSync(this.#path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      db.exec('PRAGMA foreign_keys = ON;');
      this.#db = db;
      migrate(db);
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the SQLite alert store at ${this.#path}`, { cause: err });
    }
  }

  query<R>(text: string, values: readonly SqlValue[] = []): Promise<SqlResult<R>> {
    return this.#exclusive(async () => run<R>(this.#connection(), text, values));
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const db = this.#connection();
      const session: SqlSession = { query: async (text, values = []) => run(db, text, values) };
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(session);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  describe(): string {
    return `sqlite ${this.#path}`;
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#db?.close();
    this.#db = null;
  }

  #connection(): DatabaseSync {
    if (this.#db === null) throw new StoreUnavailableError('the SQLite alert store is not started');
    return this.#db;
  }

  /** Runs `work` after everything queued before it, alone on the connection. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work, work);
    this.#queue = result.catch(() => {});
    return result;
  }
}

/** Prepared statements kept per connection; the store's texts are few (a list query per filter shape). */
const MAX_CACHED_STATEMENTS = 128;
const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

function prepared(db: DatabaseSync, text: string): StatementSync {
  let cache = statements.get(db);
  if (cache === undefined) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(text);
  if (statement === undefined) {
    if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
    statement = db.prepare(text);
    cache.set(text, statement);
  }
  return statement;
}

function run<R>(db: DatabaseSync, text: string, values: readonly SqlValue[]): SqlResult<R> {
  const statement = prepared(db, text);
  const params = values as SQLInputValue[];
  if (statement.columns().length > 0) {
    const rows = statement.all(...params) as unknown as R[];
    return { rows, rowCount: rows.length };
  }
  return { rows: [], rowCount: Number(statement.run(...params).changes) };
}

function transaction(db: DatabaseSync, work: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    work();
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

function migrate(db: DatabaseSync): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS socstream_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM socstream_migrations').all() as Array<{ version: number }>).map((r) =>
      Number(r.version),
    ),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    transaction(db, () => {
      db.exec(m.sql);
      db.prepare('INSERT INTO socstream_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    });
  }
}
