import type { Health } from '../core/component.ts';
import { NotFoundError } from '../core/errors.ts';
import { type Alert, type AlertStatus, LEVELS, type Level } from '../detect/alert.ts';
import {
  type AlertCounts,
  type AlertFilter,
  type AlertPage,
  type AlertSortKey,
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
 * The alert store written once over SQL: the list query, upsert merging, the status workflow and
 * its history, for every database that holds the two tables (`alerts`, `alert_history`; each
 * driver owns its DDL and migrations). What differs between databases is data, a `SqlDialect`;
 * how to reach one is a `SqlDatabase` (alert-store-sqlite.ts, alert-store-postgres.ts).
 */

/** A value bound to a placeholder; a string list only where the dialect binds arrays. */
export type SqlValue = string | number | null | readonly string[];

/** What differs in the SQL text between the databases the store runs on. */
export interface SqlDialect {
  readonly name: string;
  /** The text of the nth (1-based) bound value. */
  placeholder(index: number): string;
  /**
   * How "column is one of these values" is written: `in-list` binds each value (`c IN (?, ?)`),
   * `any-array` binds one array (`c = ANY($1)`).
   */
  readonly oneOf: 'in-list' | 'any-array';
  /** How JSON columns come back: `text` to be parsed, or `native` values the driver decoded. */
  readonly jsonColumns: 'text' | 'native';
  /** Appended to a SELECT of rows the transaction is about to update ('' where the transaction already locks). */
  readonly lockRows: string;
}

/** SQLite: anonymous `?` bound in the order they appear, JSON as TEXT, BEGIN IMMEDIATE locks the database. */
export const SQLITE_DIALECT: SqlDialect = {
  name: 'sqlite',
  placeholder: () => '?',
  oneOf: 'in-list',
  jsonColumns: 'text',
  lockRows: '',
};

/** PostgreSQL: numbered `$n`, arrays bound whole, JSONB decoded by pg, row locks by FOR UPDATE. */
export const POSTGRES_DIALECT: SqlDialect = {
  name: 'postgres',
  placeholder: (index) => `$${index}`,
  oneOf: 'any-array',
  jsonColumns: 'native',
  lockRows: ' FOR UPDATE',
};

export interface SqlResult<R> {
  rows: R[];
  /** Rows a write changed. */
  rowCount: number;
}

/** One connection's worth of queries (inside a transaction: that transaction's). */
export interface SqlSession {
  query<R = Record<string, unknown>>(text: string, values?: readonly SqlValue[]): Promise<SqlResult<R>>;
}

/** A database the SQL store runs on: its dialect, connection, migrations and transactions. */
export interface SqlDatabase extends SqlSession {
  readonly dialect: SqlDialect;
  /** Connects and applies the migrations; throws StoreUnavailableError when it cannot. */
  open(): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Health detail: which database. */
  describe(): string;
  close(): Promise<void>;
}

export interface SqlStatement {
  text: string;
  values: SqlValue[];
}

/**
 * Binds values while a statement's text is written left to right, so placeholders appear in the
 * order they were bound (which SQLite's anonymous `?` needs).
 */
export class SqlBuilder {
  readonly values: SqlValue[] = [];
  readonly #dialect: SqlDialect;

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }

  bind(value: SqlValue): string {
    this.values.push(value);
    return this.#dialect.placeholder(this.values.length);
  }

  /** `column` equals one of `values` (at least one). */
  oneOf(column: string, values: readonly string[]): string {
    if (this.#dialect.oneOf === 'any-array') return `${column} = ANY(${this.bind(values)})`;
    return `${column} IN (${values.map((v) => this.bind(v)).join(', ')})`;
  }
}

/** A tagged template for a statement in `dialect`: every `${value}` becomes a placeholder. */
export function sqlIn(dialect: SqlDialect) {
  return (strings: TemplateStringsArray, ...values: SqlValue[]): SqlStatement => {
    const b = new SqlBuilder(dialect);
    let text = strings[0];
    for (let i = 0; i < values.length; i++) text += b.bind(values[i]) + strings[i + 1];
    return { text, values: b.values };
  };
}

/** The SQL expression each sort key orders by: level by its rank in LEVELS, not alphabetically. */
export const SORT_EXPRESSIONS: Readonly<Record<AlertSortKey, string>> = {
  last_seen: 'last_seen',
  first_seen: 'first_seen',
  count: 'count',
  level: `(CASE level ${LEVELS.map((l, i) => `WHEN '${l}' THEN ${i}`).join(' ')} ELSE -1 END)`,
};

/** The value of `alert` under `sort`, as SORT_EXPRESSIONS computes it (the cursor carries it). */
export function sortValue(alert: Alert, sort: AlertSortKey): number {
  if (sort === 'level') return LEVELS.indexOf(alert.level);
  return alert[sort];
}

/**
 * The page query for `filter`: alerts whose [first_seen, last_seen] overlaps [from, to], ordered
 * over the whole result by the sort key then id (both in the sort's direction), keyset-paged after
 * the cursor's (value, id); one row more than the page tells whether another page follows.
 * Row-value comparison is standard SQL (SQLite >= 3.15).
 */
export function listStatement(dialect: SqlDialect, filter: AlertFilter, limit: number): SqlStatement {
  const b = new SqlBuilder(dialect);
  const sort = filter.sort ?? 'last_seen';
  const order = filter.order ?? 'desc';
  const key = SORT_EXPRESSIONS[sort];
  const where = filterConditions(b, filter);
  if (filter.cursor) {
    const c = decodeCursor(filter.cursor, sort, order);
    where.push(`(${key}, id) ${order === 'desc' ? '<' : '>'} (${b.bind(c.value)}, ${b.bind(c.id)})`);
  }
  const dir = order.toUpperCase();
  const text = `SELECT * FROM alerts${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} ${dir}, id ${dir} LIMIT ${b.bind(limit + 1)}`;
  return { text, values: b.values };
}

/** The WHERE conditions of a filter (status, level, rule, entity, time overlap), values bound on `b`. */
function filterConditions(b: SqlBuilder, filter: AlertFilter): string[] {
  const where: string[] = [];
  const statuses = asList(filter.status);
  if (statuses?.length) where.push(b.oneOf('status', statuses));
  const levels = asList(filter.level);
  if (levels?.length) where.push(b.oneOf('level', levels));
  if (filter.rule_id !== undefined) where.push(`rule_id = ${b.bind(filter.rule_id)}`);
  if (filter.entity !== undefined) where.push(`entity = ${b.bind(filter.entity)}`);
  if (filter.from !== undefined) where.push(`last_seen >= ${b.bind(filter.from)}`);
  if (filter.to !== undefined) where.push(`first_seen <= ${b.bind(filter.to)}`);
  return where;
}

/**
 * The count query for `filter` (the same conditions as listStatement, no page): one row per
 * (level, rule) with its count and the rule's title.
 */
export function countStatement(dialect: SqlDialect, filter: AlertFilter): SqlStatement {
  const b = new SqlBuilder(dialect);
  const where = filterConditions(b, filter);
  const text = `SELECT level, rule_id, max(rule_title) AS title, count(*) AS n FROM alerts${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY level, rule_id`;
  return { text, values: b.values };
}

/** countStatement's rows folded into totals by level and by rule (most alerts first). Pure. */
export function foldCounts(
  rows: ReadonlyArray<{ level: string; rule_id: string; title: string; n: number | string }>,
): AlertCounts {
  const out: AlertCounts = { total: 0, by_level: {}, by_rule: [] };
  const rules = new Map<string, { rule_id: string; title: string; n: number }>();
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    const level = r.level as Level;
    out.by_level[level] = (out.by_level[level] ?? 0) + n;
    const rule = rules.get(r.rule_id) ?? { rule_id: r.rule_id, title: r.title, n: 0 };
    if (r.title > rule.title) rule.title = r.title;
    rule.n += n;
    rules.set(r.rule_id, rule);
  }
  out.by_rule = [...rules.values()].sort(
    (a, b) => b.n - a.n || (a.rule_id < b.rule_id ? -1 : a.rule_id > b.rule_id ? 1 : 0),
  );
  return out;
}

/** A row of `alerts` as either driver returns it: BIGINTs may come as text, JSON as text or values. */
interface AlertRow {
  id: string;
  rule_id: string;
  rule_title: string;
  level: string;
  tags: unknown;
  group_json: unknown;
  entity: string | null;
  count: number | string;
  first_seen: number | string;
  last_seen: number | string;
  event_ids: unknown;
  summary: string;
  status: string;
  assignee: string | null;
  created_at: number | string;
}

interface HistoryRow {
  alert_id: string;
  at: number | string;
  actor: string;
  action: string;
  from_value: string | null;
  to_value: string | null;
  note: string | null;
}

function jsonColumn<T>(dialect: SqlDialect, value: unknown): T {
  return (dialect.jsonColumns === 'text' ? JSON.parse(value as string) : value) as T;
}

export function alertFromRow(dialect: SqlDialect, row: AlertRow): Alert {
  return {
    id: row.id,
    rule_id: row.rule_id,
    rule_title: row.rule_title,
    level: row.level as Level,
    tags: jsonColumn<string[]>(dialect, row.tags),
    group: jsonColumn<Record<string, string>>(dialect, row.group_json),
    entity: row.entity,
    count: Number(row.count),
    first_seen: Number(row.first_seen),
    last_seen: Number(row.last_seen),
    event_ids: jsonColumn<string[]>(dialect, row.event_ids),
    summary: row.summary,
    status: row.status as AlertStatus,
    assignee: row.assignee,
    created_at: Number(row.created_at),
  };
}

function historyFromRow(r: HistoryRow): HistoryEntry {
  return {
    alert_id: r.alert_id,
    at: Number(r.at),
    actor: r.actor,
    action: r.action as HistoryAction,
    from: r.from_value,
    to: r.to_value,
    note: r.note,
  };
}

/** One history row: who changed what, from, to, when. */
interface HistoryChange {
  action: HistoryAction;
  from: string | null;
  to: string | null;
  note: string | null;
}

/** The AlertStore contract (alert-store.ts) on any SqlDatabase. */
export class SqlAlertStore implements AlertStore {
  readonly #db: SqlDatabase;
  readonly #sql: ReturnType<typeof sqlIn>;

  constructor(db: SqlDatabase) {
    this.#db = db;
    this.#sql = sqlIn(db.dialect);
  }

  start(): Promise<void> {
    return this.#db.open();
  }

  async upsert(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const now = Date.now();
    const dialect = this.#db.dialect;
    await this.#db.transaction(async (tx) => {
      // Lock the batch's stored rows in id order (no deadlock between concurrent upserts).
      const ids = [...new Set(alerts.map((a) => a.id))].sort();
      const b = new SqlBuilder(dialect);
      const existing = await tx.query<AlertRow>(
        `SELECT * FROM alerts WHERE ${b.oneOf('id', ids)} ORDER BY id${dialect.lockRows}`,
        b.values,
      );
      const stored = new Map(existing.rows.map((r) => [r.id, alertFromRow(dialect, r)]));
      for (const incoming of alerts) {
        if (!stored.has(incoming.id)) {
          if (await this.#insert(tx, incoming, now)) {
            stored.set(incoming.id, incoming);
            continue;
          }
          // Inserted meanwhile by another transaction: merge with what is there now.
          const again = await this.#select(tx, incoming.id);
          if (again) stored.set(incoming.id, again);
        }
        const merged = mergeAlert(stored.get(incoming.id) as Alert, incoming);
        const s = this.#sql`UPDATE alerts SET rule_title = ${merged.rule_title}, level = ${merged.level},
          tags = ${JSON.stringify(merged.tags)}, count = ${merged.count}, first_seen = ${merged.first_seen},
          last_seen = ${merged.last_seen}, event_ids = ${JSON.stringify(merged.event_ids)},
          summary = ${merged.summary}, updated_at = ${now} WHERE id = ${merged.id}`;
        await tx.query(s.text, s.values);
        stored.set(incoming.id, merged);
      }
    });
  }

  async list(filter: AlertFilter = {}): Promise<AlertPage> {
    const limit = pageSize(filter.limit);
    const s = listStatement(this.#db.dialect, filter, limit);
    const { rows } = await this.#db.query<AlertRow>(s.text, s.values);
    const alerts = rows.slice(0, limit).map((r) => alertFromRow(this.#db.dialect, r));
    const last = alerts[alerts.length - 1];
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor({
            sort: filter.sort ?? 'last_seen',
            order: filter.order ?? 'desc',
            value: sortValue(last, filter.sort ?? 'last_seen'),
            id: last.id,
          })
        : null;
    return { alerts, next_cursor: nextCursor };
  }

  async count(filter: AlertFilter = {}): Promise<AlertCounts> {
    const s = countStatement(this.#db.dialect, filter);
    const { rows } = await this.#db.query<{
      level: string;
      rule_id: string;
      title: string;
      n: number | string;
    }>(s.text, s.values);
    return foldCounts(rows);
  }

  async get(id: string): Promise<Alert | null> {
    const s = this.#sql`SELECT * FROM alerts WHERE id = ${id}`;
    const { rows } = await this.#db.query<AlertRow>(s.text, s.values);
    return rows[0] ? alertFromRow(this.#db.dialect, rows[0]) : null;
  }

  async update(id: string, change: AlertUpdate, actor: string): Promise<Alert> {
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      const alert = await this.#select(tx, id);
      if (alert === null) throw new NotFoundError(`alert ${id} not found`);
      if (change.status !== undefined && change.status !== alert.status) {
        assertTransition(alert.status, change.status);
        await this.#setAnalystField(tx, alert, 'status', change.status, actor, now);
      }
      if (change.assignee !== undefined && change.assignee !== alert.assignee) {
        await this.#setAnalystField(tx, alert, 'assignee', change.assignee, actor, now);
      }
      if (change.note !== undefined && change.note !== '') {
        await this.#addHistory(tx, id, now, actor, {
          action: 'note',
          from: null,
          to: null,
          note: change.note,
        });
      }
      return alert;
    });
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const s = this.#sql`SELECT * FROM alert_history WHERE alert_id = ${id} ORDER BY seq`;
    const { rows } = await this.#db.query<HistoryRow>(s.text, s.values);
    return rows.map(historyFromRow);
  }

  async healthcheck(): Promise<Health> {
    try {
      await this.#db.query('SELECT 1');
      return { ok: true, detail: this.#db.describe() };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** Every write is committed before its call resolves. */
  async flush(): Promise<void> {}

  stop(): Promise<void> {
    return this.#db.close();
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** The stored alert, its row locked for the rest of the transaction. */
  async #select(tx: SqlSession, id: string): Promise<Alert | null> {
    const s = this.#sql`SELECT * FROM alerts WHERE id = ${id}`;
    const { rows } = await tx.query<AlertRow>(s.text + this.#db.dialect.lockRows, s.values);
    return rows[0] ? alertFromRow(this.#db.dialect, rows[0]) : null;
  }

  /** Inserts a new alert with its `created` history row; false when the id exists already. */
  async #insert(tx: SqlSession, a: Alert, now: number): Promise<boolean> {
    const s = this.#sql`INSERT INTO alerts (id, rule_id, rule_title, level, tags, group_json, entity, count,
        first_seen, last_seen, event_ids, summary, status, assignee, created_at, updated_at)
      VALUES (${a.id}, ${a.rule_id}, ${a.rule_title}, ${a.level}, ${JSON.stringify(a.tags)},
        ${JSON.stringify(a.group)}, ${a.entity}, ${a.count}, ${a.first_seen}, ${a.last_seen},
        ${JSON.stringify(a.event_ids)}, ${a.summary}, ${a.status}, ${a.assignee}, ${a.created_at}, ${now})
      ON CONFLICT (id) DO NOTHING`;
    const inserted = await tx.query(s.text, s.values);
    if (inserted.rowCount !== 1) return false;
    await this.#addHistory(tx, a.id, now, DETECTOR_ACTOR, {
      action: 'created',
      from: null,
      to: a.status,
      note: null,
    });
    return true;
  }

  /** Sets an analyst's field (its column and history action bear its name) and writes the history row. */
  async #setAnalystField<F extends 'status' | 'assignee'>(
    tx: SqlSession,
    alert: Alert,
    field: F,
    to: Alert[F],
    actor: string,
    now: number,
  ): Promise<void> {
    const b = new SqlBuilder(this.#db.dialect);
    // `field` is one of two literal column names, never input: it is written into the text.
    const text = `UPDATE alerts SET ${field} = ${b.bind(to)}, updated_at = ${b.bind(now)} WHERE id = ${b.bind(alert.id)}`;
    await tx.query(text, b.values);
    await this.#addHistory(tx, alert.id, now, actor, { action: field, from: alert[field], to, note: null });
    alert[field] = to;
  }

  async #addHistory(tx: SqlSession, id: string, at: number, actor: string, c: HistoryChange): Promise<void> {
    const s = this.#sql`INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value, note)
      VALUES (${id}, ${at}, ${actor}, ${c.action}, ${c.from}, ${c.to}, ${c.note})`;
    await tx.query(s.text, s.values);
  }
}
