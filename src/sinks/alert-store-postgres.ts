import pg from 'pg';
import { z } from 'zod';
import { d } from '../core/describe.ts';
import { ConfigError, StoreUnavailableError } from '../core/errors.ts';
import { quoteIdent } from '../core/sql.ts';
import type { AlertStoreDefinition } from './alert-store.ts';
import {
  POSTGRES_DIALECT,
  SqlAlertStore,
  type SqlDatabase,
  type SqlResult,
  type SqlSession,
  type SqlValue,
} from './alert-store-sql.ts';

/**
 * The PostgreSQL alert store (`pg`). Versioned migrations in `socstream_migrations`, applied at
 * start under an advisory lock so several starting processes never race. Times are BIGINT epoch
 * ms (pg hands int8 back as text; rows convert with Number, exact below 2^53).
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
        tags JSONB NOT NULL,
        group_json JSONB NOT NULL,
        entity TEXT,
        count BIGINT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        event_ids JSONB NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL,
        assignee TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX alerts_last_seen ON alerts (last_seen DESC, id DESC);
      CREATE INDEX alerts_status ON alerts (status, last_seen DESC);
      CREATE INDEX alerts_rule ON alerts (rule_id, last_seen DESC);
      CREATE INDEX alerts_entity ON alerts (entity, last_seen DESC);
      CREATE TABLE alert_history (
        seq BIGSERIAL PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        from_value TEXT,
        to_value TEXT,
        note TEXT
      );
      CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);
      CREATE FUNCTION alert_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'alert_history is append-only'; END $$;
      CREATE TRIGGER alert_history_no_change BEFORE UPDATE OR DELETE ON alert_history
        FOR EACH ROW EXECUTE FUNCTION alert_history_append_only();
    `,
  },
];

/** Any constant; the lock only has to be the same for every socstream process. */
const MIGRATION_LOCK_KEY = 7_305_202_601;

export interface PostgresAlertStoreOptions {
  connectionString: string;
  /** Schema for the tables (created if missing); default public. */
  schema?: string;
  /** Pool size. */
  maxConnections?: number;
}

/** The shared SQL store on PostgreSQL, in `schema` (default public). */
export class PostgresAlertStore extends SqlAlertStore {
  constructor(options: PostgresAlertStoreOptions) {
    super(new PostgresDatabase(options));
  }
}

/** Its keys of the `alert_store:` section (moved from src/config/schema.ts). */
export const postgresAlertStoreConfig = z
  .object({
    postgres_url: d(z.string().optional(), 'postgres://user@host:5432/db; migrations are applied at start'),
  })
  .strict();

export const postgresAlertStore: AlertStoreDefinition<z.infer<typeof postgresAlertStoreConfig>> = {
  type: 'postgres',
  kind: 'alert_store',
  section: 'alert_store',
  summary: 'Alert store for teams: PostgreSQL, a connection pool, migrations applied at start',
  config: postgresAlertStoreConfig,
  example: { postgres_url: 'postgres://postgres@127.0.0.1:5432/test' },
  create: (config, ctx) => {
    if (!config.postgres_url) {
      throw new ConfigError('alert_store.postgres_url is required when alert_store.type is postgres');
    }
    return new PostgresAlertStore({ connectionString: config.postgres_url, schema: ctx.postgresSchema });
  },
};

class PostgresDatabase implements SqlDatabase {
  readonly dialect = POSTGRES_DIALECT;
  readonly #options: PostgresAlertStoreOptions;
  #pool: pg.Pool | null = null;

  constructor(options: PostgresAlertStoreOptions) {
    this.#options = options;
  }

  async open(): Promise<void> {
    const schema = this.#options.schema ?? 'public';
    const pool = new pg.Pool({
      connectionString: this.#options.connectionString,
      max: this.#options.maxConnections ?? 5,
      options: `-c search_path=${quoteIdent(schema)}`,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    this.#pool = pool;
    try {
      await migrate(pool, schema);
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot prepare the PostgreSQL alert store: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  query<R>(text: string, values: readonly SqlValue[] = []): Promise<SqlResult<R>> {
    return run<R>(this.#connection(), text, values);
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#connection().connect();
    } catch (err) {
      throw new StoreUnavailableError(`PostgreSQL unreachable: ${(err as Error).message}`, { cause: err });
    }
    const session: SqlSession = { query: (text, values = []) => run(client, text, values) };
    try {
      await client.query('BEGIN');
      const result = await work(session);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  describe(): string {
    return 'postgres';
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }

  #connection(): pg.Pool {
    if (this.#pool === null) throw new StoreUnavailableError('the PostgreSQL alert store is not started');
    return this.#pool;
  }
}

async function run<R>(
  on: pg.Pool | pg.PoolClient,
  text: string,
  values: readonly SqlValue[],
): Promise<SqlResult<R>> {
  const result = await on.query(text, values as unknown[]);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // Under the lock: concurrent CREATE SCHEMA IF NOT EXISTS can still collide on the catalog.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS socstream_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM socstream_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO socstream_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
