import type { ComponentContext, ComponentDefinition, Health, Lifecycle } from '../core/component.ts';
import { InvalidTransitionError, UsageError } from '../core/errors.ts';
import type { Alert, AlertStatus, Level } from '../detect/alert.ts';

/**
 * The alert store: one interface (this file, with the rules every store follows), one SQL
 * implementation (alert-store-sql.ts) on two databases (node:sqlite embedded, PostgreSQL for
 * teams), one contract test suite (test/sinks/alert-store-contract.ts); the configured one is
 * built through the registry (src/components.ts ALERT_STORES, src/pipeline/alerts.ts).
 *
 * - `upsert` is idempotent by alert id: a replayed or updated alert never doubles anything. The
 *   stored count and last_seen only grow (max of stored and incoming), first_seen only shrinks, the
 *   event ids follow the alert with the larger count. Status, assignee and notes belong to the
 *   analysts: an upsert never touches them.
 * - `list` filters by status, level, rule, entity and time range (alerts whose [first_seen,
 *   last_seen] overlaps [from, to]), sorts the whole result by one key (ALERT_SORT_KEYS; newest
 *   last_seen first by default; ties by id) and pages by an opaque keyset cursor made for that
 *   sort (a cursor of another sort is refused).
 * - `update` changes status / assignee / adds a note, as `actor`; every change is one row of an
 *   append-only history (who, what, from, to, when).
 */
export interface AlertFilter {
  status?: AlertStatus | readonly AlertStatus[];
  level?: Level | readonly Level[];
  rule_id?: string;
  entity?: string;
  /** Epoch ms; alerts seen at or after. */
  from?: number;
  /** Epoch ms; alerts first seen at or before. */
  to?: number;
  /** Page size, 1..1000 (default 50). */
  limit?: number;
  /** From the previous page's `next_cursor`. */
  cursor?: string | null;
  /** What the whole result is ordered by (default last_seen); ties by id in the same direction. */
  sort?: AlertSortKey;
  /** Default desc: newest, most severe, largest first. */
  order?: SortOrder;
}

/** The keys `list` sorts by; level sorts by severity (informational < … < critical), not by name. */
export const ALERT_SORT_KEYS = ['last_seen', 'first_seen', 'level', 'count'] as const;
export type AlertSortKey = (typeof ALERT_SORT_KEYS)[number];
export const SORT_ORDERS = ['desc', 'asc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export interface AlertPage {
  alerts: Alert[];
  /** Null on the last page. */
  next_cursor: string | null;
}

export interface AlertCounts {
  total: number;
  /** Only the levels that have alerts. */
  by_level: Partial<Record<Level, number>>;
  /** Most alerts first, ties by rule id; the title is the rule's newest stored one (max). */
  by_rule: Array<{ rule_id: string; title: string; n: number }>;
}

export interface AlertUpdate {
  status?: AlertStatus;
  /** null unassigns. */
  assignee?: string | null;
  note?: string;
}

export const HISTORY_ACTIONS = ['created', 'status', 'assignee', 'note'] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

export interface HistoryEntry {
  alert_id: string;
  /** Epoch ms. */
  at: number;
  actor: string;
  action: HistoryAction;
  from: string | null;
  to: string | null;
  note: string | null;
}

export interface AlertStore extends Lifecycle {
  /** Opens the database and applies migrations. */
  start(): Promise<void>;
  upsert(alerts: readonly Alert[]): Promise<void>;
  list(filter?: AlertFilter): Promise<AlertPage>;
  /**
   * How many alerts match the filter (every one, not a page: `limit`, `cursor`, `sort` and `order`
   * are ignored), by level and by rule, counted by the database.
   */
  count(filter?: AlertFilter): Promise<AlertCounts>;
  get(id: string): Promise<Alert | null>;
  /** Throws NotFoundError for an unknown id and InvalidTransitionError for a refused status change. */
  update(id: string, change: AlertUpdate, actor: string): Promise<Alert>;
  /** Oldest first. */
  history(id: string): Promise<HistoryEntry[]>;
  healthcheck(): Promise<Health>;
  /** Every write is committed when its call resolves: nothing is held. */
  flush(): Promise<void>;
  /** Closes the connection(s). */
  stop(): Promise<void>;
  /** The same as stop() (older callers say close). */
  close(): Promise<void>;
}

/** What building a store may take besides the context: tests put PostgreSQL tables in their own schema. */
export interface AlertStoreContext extends ComponentContext {
  /** PostgreSQL schema of the tables (default public). */
  postgresSchema?: string;
}

/**
 * An alert store's definition. Its config is its own keys of the `alert_store:` section, which is
 * assembled from them (src/config/schema.ts); `alert_store.type` picks the definition.
 */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds stores with different configs
export type AlertStoreDefinition<C = any> = ComponentDefinition<
  'alert_store',
  C,
  AlertStore,
  AlertStoreContext
>;

/**
 * The status workflow. new → acknowledged → closed | false_positive, new → closed | false_positive
 * directly, and reopening: closed, false_positive or acknowledged → new. Setting the current status
 * again is a no-op (no history row). Everything else (closed → acknowledged, …) is refused.
 */
export const STATUS_TRANSITIONS: Readonly<Record<AlertStatus, readonly AlertStatus[]>> = {
  new: ['acknowledged', 'closed', 'false_positive'],
  acknowledged: ['closed', 'false_positive', 'new'],
  closed: ['new'],
  false_positive: ['new'],
};

export function assertTransition(from: AlertStatus, to: AlertStatus): void {
  if (from === to || STATUS_TRANSITIONS[from].includes(to)) return;
  throw new InvalidTransitionError(
    `alert status cannot change from ${from} to ${to}; allowed from ${from}: ${STATUS_TRANSITIONS[from].join(', ')}`,
  );
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
export const DETECTOR_ACTOR = 'detector';

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new UsageError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

/**
 * Keyset cursor: the sort, its direction and the sort value and id of the last alert on the page.
 * The default sort (last_seen, desc) keeps its original two-element form, so cursors handed out
 * before sorting existed still work.
 */
export interface CursorKey {
  sort: AlertSortKey;
  order: SortOrder;
  value: number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  const isDefault = key.sort === 'last_seen' && key.order === 'desc';
  const parts = isDefault ? [key.value, key.id] : [key.value, key.id, key.sort, key.order];
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function isSortKey(v: unknown): v is AlertSortKey {
  return ALERT_SORT_KEYS.includes(v as AlertSortKey);
}

function isOrder(v: unknown): v is SortOrder {
  return SORT_ORDERS.includes(v as SortOrder);
}

/** The cursor's key; refused when it is malformed or was made for another sort than `sort`/`order`. */
export function decodeCursor(
  cursor: string,
  sort: AlertSortKey = 'last_seen',
  order: SortOrder = 'desc',
): CursorKey {
  let parts: unknown[] = [];
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
  } catch {
    // falls through to the usage error
  }
  if (Array.isArray(parts) && typeof parts[0] === 'number' && typeof parts[1] === 'string') {
    const made = parts.length === 2 ? ['last_seen', 'desc'] : [parts[2], parts[3]];
    if (isSortKey(made[0]) && isOrder(made[1])) {
      if (made[0] !== sort || made[1] !== order) {
        throw new UsageError(
          `cursor was made for sort=${made[0]} order=${made[1]}, not sort=${sort} order=${order}: start again without a cursor`,
        );
      }
      return { sort, order, value: parts[0], id: parts[1] };
    }
  }
  throw new UsageError('invalid cursor: pass next_cursor from the previous page unchanged');
}

export function asList<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** What an upsert writes over a stored alert: counts and times only grow, analyst fields stay. */
export function mergeAlert(stored: Alert, incoming: Alert): Alert {
  const newer = incoming.count > stored.count;
  return {
    ...stored,
    rule_title: incoming.rule_title,
    level: incoming.level,
    tags: incoming.tags,
    count: Math.max(stored.count, incoming.count),
    first_seen: Math.min(stored.first_seen, incoming.first_seen),
    last_seen: Math.max(stored.last_seen, incoming.last_seen),
    event_ids: newer ? incoming.event_ids : stored.event_ids,
    summary: newer ? incoming.summary : stored.summary,
  };
}
