import pg from 'pg';
import type { Health } from '../core/component.ts';
import { NotFoundError, StoreUnavailableError } from '../core/errors.ts';
import { quoteIdent } from '../core/sql.ts';
import type { Alert, AlertStatus, Level } from '../detect/alert.ts';
import {
  type AlertFilter,
  type AlertPage,
  type AlertStore,
  type AlertUpdate,
  asList,
  assertTransition,
  DETECTOR_ACTOR,
  decodeCursor,
  encodeCursor,
  type HistoryAction,
  type HistoryEntry,
  mergeAlert,
  pageSize,
} from './alert-store.ts';

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

interface AlertRow {
  id: string;
  rule_id: string;
  rule_title: string;
  level: string;
  tags: string[];
  group_json: Record<string, string>;
  entity: string | null;
  count: string;
  first_seen: string;
  last_seen: string;
  event_ids: string[];
  summary: string;
  status: string;
  assignee: string | null;
  created_at: string;
}

function alertFromRow(row: AlertRow): Alert {
  return {
    id: row.id,
    rule_id: row.rule_id,
    rule_title: row.rule_title,
    level: row.level as Level,
    tags: row.tags,
    group: row.group_json,
    entity: row.entity,
    count: Number(row.count),
    first_seen: Number(row.first_seen),
    last_seen: Number(row.last_seen),
    event_ids: row.event_ids,
    summary: row.summary,
    status: row.status as AlertStatus,
    assignee: row.assignee,
    created_at: Number(row.created_at),
  };
}

export interface PostgresAlertStoreOptions {
  connectionString: string;
  /** Schema for the tables (created if missing); default public. */
  schema?: string;
  /** Pool size. */
  maxConnections?: number;
}

export class PostgresAlertStore implements AlertStore {
  readonly #options: PostgresAlertStoreOptions;
  #pool: pg.Pool | null = null;

  constructor(options: PostgresAlertStoreOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
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
      await this.#migrate(pool, schema);
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot prepare the PostgreSQL alert store: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async upsert(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const now = Date.now();
    await this.#transaction(async (client) => {
      // Lock the existing rows of this batch in id order (no deadlock between concurrent upserts).
      const ids = [...new Set(alerts.map((a) => a.id))].sort();
      const existing = await client.query<AlertRow>(
        'SELECT * FROM alerts WHERE id = ANY($1) ORDER BY id FOR UPDATE',
        [ids],
      );
      const stored = new Map(existing.rows.map((r) => [r.id, alertFromRow(r)]));
      for (const incoming of alerts) {
        const before = stored.get(incoming.id);
        if (before === undefined) {
          const inserted = await client.query(
            `INSERT INTO alerts (id, rule_id, rule_title, level, tags, group_json, entity, count, first_seen,
               last_seen, event_ids, summary, status, assignee, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (id) DO NOTHING`,
            [
              incoming.id,
              incoming.rule_id,
              incoming.rule_title,
              incoming.level,
              JSON.stringify(incoming.tags),
              JSON.stringify(incoming.group),
              incoming.entity,
              incoming.count,
              incoming.first_seen,
              incoming.last_seen,
              JSON.stringify(incoming.event_ids),
              incoming.summary,
              incoming.status,
              incoming.assignee,
              incoming.created_at,
              now,
            ],
          );
          if (inserted.rowCount === 1) {
            await this.#addHistory(
              client,
              incoming.id,
              now,
              DETECTOR_ACTOR,
              'created',
              null,
              incoming.status,
              null,
            );
            stored.set(incoming.id, incoming);
            continue;
          }
          // Inserted meanwhile by another transaction: merge with what is there now.
          const row = await client.query<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [
            incoming.id,
          ]);
          stored.set(incoming.id, alertFromRow(row.rows[0]));
        }
        const merged = mergeAlert(stored.get(incoming.id) as Alert, incoming);
        await client.query(
          `UPDATE alerts SET rule_title = $2, level = $3, tags = $4, count = $5, first_seen = $6, last_seen = $7,
             event_ids = $8, summary = $9, updated_at = $10 WHERE id = $1`,
          [
            merged.id,
            merged.rule_title,
            merged.level,
            JSON.stringify(merged.tags),
            merged.count,
            merged.first_seen,
            merged.last_seen,
            JSON.stringify(merged.event_ids),
            merged.summary,
            now,
          ],
        );
        stored.set(incoming.id, merged);
      }
    });
  }

  async list(filter: AlertFilter = {}): Promise<AlertPage> {
    const limit = pageSize(filter.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const statuses = asList(filter.status);
    if (statuses?.length) where.push(`status = ANY(${add(statuses)})`);
    const levels = asList(filter.level);
    if (levels?.length) where.push(`level = ANY(${add(levels)})`);
    if (filter.rule_id !== undefined) where.push(`rule_id = ${add(filter.rule_id)}`);
    if (filter.entity !== undefined) where.push(`entity = ${add(filter.entity)}`);
    if (filter.from !== undefined) where.push(`last_seen >= ${add(filter.from)}`);
    if (filter.to !== undefined) where.push(`first_seen <= ${add(filter.to)}`);
    if (filter.cursor) {
      const c = decodeCursor(filter.cursor);
      where.push(`(last_seen, id) < (${add(c.lastSeen)}, ${add(c.id)})`);
    }
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY last_seen DESC, id DESC LIMIT ${add(limit + 1)}`;
    const { rows } = await this.#open().query<AlertRow>(sql, params);
    const alerts = rows.slice(0, limit).map(alertFromRow);
    const last = alerts[alerts.length - 1];
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ lastSeen: last.last_seen, id: last.id }) : null;
    return { alerts, next_cursor: nextCursor };
  }

  async get(id: string): Promise<Alert | null> {
    const { rows } = await this.#open().query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
    return rows[0] ? alertFromRow(rows[0]) : null;
  }

  async update(id: string, change: AlertUpdate, actor: string): Promise<Alert> {
    const now = Date.now();
    return this.#transaction(async (client) => {
      const { rows } = await client.query<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) throw new NotFoundError(`alert ${id} not found`);
      const alert = alertFromRow(rows[0]);
      if (change.status !== undefined && change.status !== alert.status) {
        assertTransition(alert.status, change.status);
        await client.query('UPDATE alerts SET status = $2, updated_at = $3 WHERE id = $1', [
          id,
          change.status,
          now,
        ]);
        await this.#addHistory(client, id, now, actor, 'status', alert.status, change.status, null);
        alert.status = change.status;
      }
      if (change.assignee !== undefined && change.assignee !== alert.assignee) {
        await client.query('UPDATE alerts SET assignee = $2, updated_at = $3 WHERE id = $1', [
          id,
          change.assignee,
          now,
        ]);
        await this.#addHistory(client, id, now, actor, 'assignee', alert.assignee, change.assignee, null);
        alert.assignee = change.assignee;
      }
      if (change.note !== undefined && change.note !== '') {
        await this.#addHistory(client, id, now, actor, 'note', null, null, change.note);
      }
      return alert;
    });
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const { rows } = await this.#open().query<{
      alert_id: string;
      at: string;
      actor: string;
      action: string;
      from_value: string | null;
      to_value: string | null;
      note: string | null;
    }>('SELECT * FROM alert_history WHERE alert_id = $1 ORDER BY seq', [id]);
    return rows.map((r) => ({
      alert_id: r.alert_id,
      at: Number(r.at),
      actor: r.actor,
      action: r.action as HistoryAction,
      from: r.from_value,
      to: r.to_value,
      note: r.note,
    }));
  }

  async healthcheck(): Promise<Health> {
    try {
      await this.#open().query('SELECT 1');
      return { ok: true, detail: 'postgres' };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }

  #open(): pg.Pool {
    if (this.#pool === null) throw new StoreUnavailableError('the PostgreSQL alert store is not started');
    return this.#pool;
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#open().connect();
    } catch (err) {
      throw new StoreUnavailableError(`PostgreSQL unreachable: ${(err as Error).message}`, { cause: err });
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async #addHistory(
    client: pg.PoolClient,
    id: string,
    at: number,
    actor: string,
    action: HistoryAction,
    from: string | null,
    to: string | null,
    note: string | null,
  ): Promise<void> {
    await client.query(
      'INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value, note) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [id, at, actor, action, from, to, note],
    );
  }

  async #migrate(pool: pg.Pool, schema: string): Promise<void> {
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
}
