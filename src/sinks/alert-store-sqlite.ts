import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { Health } from '../core/component.ts';
import { NotFoundError, StoreUnavailableError } from '../core/errors.ts';
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
 * The embedded alert store on `node:sqlite` (WAL, so the API can read while the pipeline writes).
 * The calls are synchronous underneath; each method is one transaction. Migrations are versioned
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

interface AlertRow {
  id: string;
  rule_id: string;
  rule_title: string;
  level: string;
  tags: string;
  group_json: string;
  entity: string | null;
  count: number;
  first_seen: number;
  last_seen: number;
  event_ids: string;
  summary: string;
  status: string;
  assignee: string | null;
  created_at: number;
}

interface HistoryRow {
  alert_id: string;
  at: number;
  actor: string;
  action: string;
  from_value: string | null;
  to_value: string | null;
  note: string | null;
}

function alertFromRow(row: AlertRow): Alert {
  return {
    id: row.id,
    rule_id: row.rule_id,
    rule_title: row.rule_title,
    level: row.level as Level,
    tags: JSON.parse(row.tags) as string[],
    group: JSON.parse(row.group_json) as Record<string, string>,
    entity: row.entity,
    count: Number(row.count),
    first_seen: Number(row.first_seen),
    last_seen: Number(row.last_seen),
    event_ids: JSON.parse(row.event_ids) as string[],
    summary: row.summary,
    status: row.status as AlertStatus,
    assignee: row.assignee,
    created_at: Number(row.created_at),
  };
}

function alertParams(a: Alert, now: number): Record<string, SQLInputValue> {
  return {
    $id: a.id,
    $rule_id: a.rule_id,
    $rule_title: a.rule_title,
    $level: a.level,
    $tags: JSON.stringify(a.tags),
    $group_json: JSON.stringify(a.group),
    $entity: a.entity,
    $count: a.count,
    $first_seen: a.first_seen,
    $last_seen: a.last_seen,
    $event_ids: JSON.stringify(a.event_ids),
    $summary: a.summary,
    $status: a.status,
    $assignee: a.assignee,
    $created_at: a.created_at,
    $updated_at: now,
  };
}

export interface SqliteAlertStoreOptions {
  path: string;
}

export class SqliteAlertStore implements AlertStore {
  readonly #path: string;
  #db: DatabaseSync | null = null;

  constructor(options: SqliteAlertStoreOptions) {
    this.#path = options.path;
  }

  async start(): Promise<void> {
    try {
      if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true });
      const db = new DatabaseSync(this.#path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      db.exec('PRAGMA foreign_keys = ON;');
      this.#db = db;
      this.#migrate(db);
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the SQLite alert store at ${this.#path}`, { cause: err });
    }
  }

  async upsert(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const db = this.#open();
    const now = Date.now();
    const select = db.prepare('SELECT * FROM alerts WHERE id = ?');
    const insert = db.prepare(
      `INSERT INTO alerts (id, rule_id, rule_title, level, tags, group_json, entity, count, first_seen,
         last_seen, event_ids, summary, status, assignee, created_at, updated_at)
       VALUES ($id, $rule_id, $rule_title, $level, $tags, $group_json, $entity, $count, $first_seen,
         $last_seen, $event_ids, $summary, $status, $assignee, $created_at, $updated_at)`,
    );
    const update = db.prepare(
      `UPDATE alerts SET rule_title = $rule_title, level = $level, tags = $tags, count = $count,
         first_seen = $first_seen, last_seen = $last_seen, event_ids = $event_ids, summary = $summary,
         updated_at = $updated_at WHERE id = $id`,
    );
    this.#transaction(db, () => {
      for (const incoming of alerts) {
        const row = select.get(incoming.id) as AlertRow | undefined;
        if (row === undefined) {
          insert.run(alertParams(incoming, now));
          this.#addHistory(db, incoming.id, now, DETECTOR_ACTOR, 'created', null, incoming.status, null);
        } else {
          const merged = mergeAlert(alertFromRow(row), incoming);
          const p = alertParams(merged, now);
          update.run({
            $id: p.$id,
            $rule_title: p.$rule_title,
            $level: p.$level,
            $tags: p.$tags,
            $count: p.$count,
            $first_seen: p.$first_seen,
            $last_seen: p.$last_seen,
            $event_ids: p.$event_ids,
            $summary: p.$summary,
            $updated_at: now,
          });
        }
      }
    });
  }

  async list(filter: AlertFilter = {}): Promise<AlertPage> {
    const db = this.#open();
    const limit = pageSize(filter.limit);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const statuses = asList(filter.status);
    if (statuses?.length) {
      where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
    const levels = asList(filter.level);
    if (levels?.length) {
      where.push(`level IN (${levels.map(() => '?').join(', ')})`);
      params.push(...levels);
    }
    if (filter.rule_id !== undefined) {
      where.push('rule_id = ?');
      params.push(filter.rule_id);
    }
    if (filter.entity !== undefined) {
      where.push('entity = ?');
      params.push(filter.entity);
    }
    if (filter.from !== undefined) {
      where.push('last_seen >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('first_seen <= ?');
      params.push(filter.to);
    }
    if (filter.cursor) {
      const c = decodeCursor(filter.cursor);
      where.push('(last_seen < ? OR (last_seen = ? AND id < ?))');
      params.push(c.lastSeen, c.lastSeen, c.id);
    }
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY last_seen DESC, id DESC LIMIT ?`;
    const rows = db.prepare(sql).all(...params, limit + 1) as unknown as AlertRow[];
    const alerts = rows.slice(0, limit).map(alertFromRow);
    const last = alerts[alerts.length - 1];
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ lastSeen: last.last_seen, id: last.id }) : null;
    return { alerts, next_cursor: nextCursor };
  }

  async get(id: string): Promise<Alert | null> {
    const row = this.#open().prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row ? alertFromRow(row) : null;
  }

  async update(id: string, change: AlertUpdate, actor: string): Promise<Alert> {
    const db = this.#open();
    const now = Date.now();
    return this.#transaction(db, () => {
      const row = db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
      if (row === undefined) throw new NotFoundError(`alert ${id} not found`);
      const alert = alertFromRow(row);
      if (change.status !== undefined && change.status !== alert.status) {
        assertTransition(alert.status, change.status);
        db.prepare('UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?').run(change.status, now, id);
        this.#addHistory(db, id, now, actor, 'status', alert.status, change.status, null);
        alert.status = change.status;
      }
      if (change.assignee !== undefined && change.assignee !== alert.assignee) {
        db.prepare('UPDATE alerts SET assignee = ?, updated_at = ? WHERE id = ?').run(
          change.assignee,
          now,
          id,
        );
        this.#addHistory(db, id, now, actor, 'assignee', alert.assignee, change.assignee, null);
        alert.assignee = change.assignee;
      }
      if (change.note !== undefined && change.note !== '') {
        this.#addHistory(db, id, now, actor, 'note', null, null, change.note);
      }
      return alert;
    });
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const rows = this.#open()
      .prepare('SELECT * FROM alert_history WHERE alert_id = ? ORDER BY seq')
      .all(id) as unknown as HistoryRow[];
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
      this.#open().prepare('SELECT 1').get();
      return { ok: true, detail: `sqlite ${this.#path}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
  }

  #open(): DatabaseSync {
    if (this.#db === null) throw new StoreUnavailableError('the SQLite alert store is not started');
    return this.#db;
  }

  #transaction<T>(db: DatabaseSync, work: () => T): T {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }

  #addHistory(
    db: DatabaseSync,
    id: string,
    at: number,
    actor: string,
    action: HistoryAction,
    from: string | null,
    to: string | null,
    note: string | null,
  ): void {
    db.prepare(
      'INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(id, at, actor, action, from, to, note);
  }

  #migrate(db: DatabaseSync): void {
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
      this.#transaction(db, () => {
        db.exec(m.sql);
        db.prepare('INSERT INTO socstream_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          Date.now(),
        );
      });
    }
  }
}
