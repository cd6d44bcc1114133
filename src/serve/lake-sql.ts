import { quoteIdent as sqlIdent, sqlString } from '../core/sql.ts';

/**
 * SQL the API builds over the lake views for /api/events and alert details (/api/stats: src/lake/rollup.ts). Values never reach SQL
 * unescaped: strings are quoted, numbers checked, view names checked against the lake's views.
 */
export interface EventFilter {
  from?: number;
  to?: number;
  log_type?: string;
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  /** Case-insensitive text on a few fields. */
  q?: string;
  limit: number;
  /** Opaque: the (event_time ms, id) of the last row of the previous page, made for `order`. */
  cursor?: string;
  /** By event time (ties by id): desc (default, newest first) or asc. */
  order?: EventOrder;
}

export const EVENT_ORDERS = ['desc', 'asc'] as const;
export type EventOrder = (typeof EVENT_ORDERS)[number];

export interface EventCursor {
  t: number;
  id: string;
  order: EventOrder;
}

export const TEXT_FIELDS = [
  'dns_query',
  'url',
  'user_agent',
  'signature',
  'message',
  'http_host',
  'user',
  'host',
] as const;
export const EVENT_COLUMNS = [
  'id',
  'source',
  'log_type',
  'epoch_ms(event_time) AS event_time',
  'event_class',
  'event_type',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'protocol',
  'user',
  'host',
  'outcome',
  'severity',
  'signature',
  'dns_query',
  'http_method',
  'http_status',
  'url',
  'direction',
  'message',
] as const;

function likeEscape(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_');
}

/** Newest-first cursors keep their original two-element form; oldest-first ones say so. */
export function encodeEventCursor(eventTimeMs: number, id: string, order: EventOrder = 'desc'): string {
  const parts = order === 'desc' ? [eventTimeMs, id] : [eventTimeMs, id, order];
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The cursor's key, or null when it is not one of ours (the route answers 400 for it). */
export function decodeEventCursor(cursor: string): EventCursor | null {
  try {
    const [t, id, order = 'desc'] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
      unknown,
    ];
    const known = EVENT_ORDERS.includes(order as EventOrder);
    return typeof t === 'number' && Number.isFinite(t) && typeof id === 'string' && known
      ? { t, id, order: order as EventOrder }
      : null;
  } catch {
    return null;
  }
}

/** Why `cursor` cannot continue a listing in `order`, or null when it can. */
export function eventCursorProblem(cursor: string, order: EventOrder): string | null {
  const c = decodeEventCursor(cursor);
  if (!c) return 'invalid cursor: pass next_cursor from the previous page unchanged';
  if (c.order !== order)
    return `cursor was made for order=${c.order}, not order=${order}: start again without a cursor`;
  return null;
}

/** Keyset condition after the cursor's (event_time, id) in the listing's direction. */
function afterCursor(c: EventCursor): string {
  const t = `make_timestamp(${Math.trunc(c.t) * 1000})`;
  const op = c.order === 'desc' ? '<' : '>';
  return `(event_time ${op} ${t} OR (event_time = ${t} AND id ${op} ${sqlString(c.id)}))`;
}

/**
 * Partition predicates so DuckDB prunes hour directories outside [from, to]. Written as row-value
 * comparisons on the hive columns: DuckDB skips files on those (EXPLAIN ANALYZE: "Total Files
 * Read"), while an arithmetic key like `year * 1000000 + … + hour >= k` filtered rows but read
 * every file of the lake (DuckDB 1.5; test/serve/alert-events.test.ts proves the pruning).
 */
export function partitionPrune(from?: number, to?: number): string[] {
  const where: string[] = [];
  const key = (ms: number) => {
    const d = new Date(ms);
    return `(${d.getUTCFullYear()}, ${d.getUTCMonth() + 1}, ${d.getUTCDate()}, ${d.getUTCHours()})`;
  };
  const columns = '(year, month, day, hour)';
  if (from !== undefined) where.push(`${columns} >= ${key(from)}`);
  if (to !== undefined) where.push(`${columns} <= ${key(to)}`);
  return where;
}

/** [from, to] on event_time alone (both ends inclusive, either open). */
export function eventTimeRange(from?: number, to?: number): string[] {
  const where: string[] = [];
  if (from !== undefined) where.push(`event_time >= make_timestamp(${Math.trunc(from) * 1000})`);
  if (to !== undefined) where.push(`event_time <= make_timestamp(${Math.trunc(to) * 1000})`);
  return where;
}

export function timeRange(from?: number, to?: number): string[] {
  return [...partitionPrune(from, to), ...eventTimeRange(from, to)];
}

/**
 * The querystring schema of the event filter that GET /api/events and GET /api/events/fields share
 * (eventTimeRange + eventPredicates read it).
 */
/** The event filter as a querystring gives it (the shape of EVENT_FILTER_PROPERTIES). */
export interface EventFilterQuery {
  from?: string;
  to?: string;
  log_type?: string;
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  q?: string;
}

export const EVENT_FILTER_PROPERTIES = {
  from: { type: 'string', description: 'epoch ms or ISO 8601' },
  to: { type: 'string', description: 'epoch ms or ISO 8601' },
  log_type: { type: 'string', pattern: '^[a-z0-9_]+$' },
  src_ip: { type: 'string', maxLength: 64 },
  dst_ip: { type: 'string', maxLength: 64 },
  user: { type: 'string', maxLength: 256 },
  q: {
    type: 'string',
    maxLength: 256,
    description: `text in ${TEXT_FIELDS.join(', ')}`,
  },
} as const;

/**
 * The field filters of GET /api/events (and of its histogram): exact addresses and user, and
 * case-insensitive text over TEXT_FIELDS.
 */
export function eventPredicates(filter: {
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  q?: string;
}): string[] {
  const where: string[] = [];
  if (filter.src_ip) where.push(`src_ip = ${sqlString(filter.src_ip)}`);
  if (filter.dst_ip) where.push(`dst_ip = ${sqlString(filter.dst_ip)}`);
  if (filter.user) where.push(`"user" = ${sqlString(filter.user)}`);
  if (filter.q) {
    const pattern = sqlString(`%${likeEscape(filter.q)}%`);
    where.push(`(${TEXT_FIELDS.map((f) => `${sqlIdent(f)} ILIKE ${pattern} ESCAPE '\\'`).join(' OR ')})`);
  }
  return where;
}

/** A slice of the time line, (after, upTo]: either end open when undefined. */
export interface TimeWindow {
  after?: number;
  upTo?: number;
}

/**
 * Where a search window ends, counted from its anchor (the newest end of a newest-first search,
 * the oldest end of an oldest-first one): the first page of a day's search usually fills from the
 * first hour, so it reads that hour's files, not the day's.
 */
export const SEARCH_WINDOW_STEPS_MS = [3_600_000, 6 * 3_600_000, 24 * 3_600_000] as const;
/** The windows after the steps: 6 h each (a rare text match over a week's lake reads ~2 s of it). */
const REST_STEP_MS = 6 * 3_600_000;

/**
 * The windows a search reads one after the other, in its order, until the page is full: together
 * they cover the whole time line exactly once, so the rows they return in turn are the rows one
 * query over the whole range would return. Anchored at `to` (or the cursor's time, or now) for
 * newest first, at `from` (or the cursor's time) for oldest first; windows beyond the range's
 * other end are left out. After the steps, a range's rest is read 6 hours at a time (then what is left
of it); an open end is one last window. An oldest-first search with neither from nor cursor is one
window.
 */
export function searchWindows(span: {
  from?: number;
  to?: number;
  order: EventOrder;
  cursorT?: number;
  now: number;
}): TimeWindow[] {
  const { from, to, order } = span;
  if (order === 'desc') {
    const anchor = Math.min(
      to ?? Number.POSITIVE_INFINITY,
      span.cursorT ?? Number.POSITIVE_INFINITY,
      span.now,
    );
    const windows: TimeWindow[] = [];
    let upper: number | undefined;
    for (const step of SEARCH_WINDOW_STEPS_MS) {
      const after = anchor - step;
      if (from !== undefined && after < from) break;
      windows.push({ after, upTo: upper });
      upper = after;
    }
    // Then 6 hours at a time down to the range's start: no window of a long range reads more than 6 h
    // (24 h for the last step), so the scan budget of GET /api/events is checked that often.
    while (from !== undefined && upper !== undefined && upper - REST_STEP_MS >= from) {
      windows.push({ after: upper - REST_STEP_MS, upTo: upper });
      upper -= REST_STEP_MS;
    }
    windows.push({ upTo: upper });
    return windows;
  }
  const anchor = Math.max(from ?? Number.NEGATIVE_INFINITY, span.cursorT ?? Number.NEGATIVE_INFINITY);
  if (!Number.isFinite(anchor)) return [{}];
  const windows: TimeWindow[] = [];
  let lower: number | undefined;
  for (const step of SEARCH_WINDOW_STEPS_MS) {
    const upTo = anchor + step;
    if (to !== undefined && upTo >= to) break;
    windows.push({ after: lower, upTo });
    lower = upTo;
  }
  while (to !== undefined && lower !== undefined && lower + REST_STEP_MS < to) {
    windows.push({ after: lower, upTo: lower + REST_STEP_MS });
    lower += REST_STEP_MS;
  }
  windows.push({ after: lower });
  return windows;
}

/**
 * The time span one window of a search reads: the range, the window and the cursor (in the
 * listing's direction) together; the hours it overlaps are the files a search lists for it.
 */
export function windowSpan(filter: EventFilter, window: TimeWindow): { from?: number; to?: number } {
  const order = filter.order ?? 'desc';
  const cursor = filter.cursor ? decodeEventCursor(filter.cursor) : null;
  const defined = (values: Array<number | undefined>) => values.filter((v): v is number => v !== undefined);
  const lows = defined([
    filter.from,
    window.after,
    cursor?.order === 'asc' && order === 'asc' ? cursor.t : undefined,
  ]);
  const highs = defined([
    filter.to,
    window.upTo,
    cursor?.order === 'desc' && order === 'desc' ? cursor.t : undefined,
  ]);
  return {
    from: lows.length ? Math.max(...lows) : undefined,
    to: highs.length ? Math.min(...highs) : undefined,
  };
}

/** GET /api/events's page over a view (its name), see eventsSqlFrom. */
export function eventsSql(filter: EventFilter, view: string, window: TimeWindow = {}): string {
  return eventsSqlFrom(filter, sqlIdent(view), window);
}

/**
 * GET /api/events's page in one window, over `source`: a view's quoted name, or a read_parquet(...)
 * of the window's hour files (LakeAccess.eventSource) with the same columns.
 */
export function eventsSqlFrom(filter: EventFilter, source: string, window: TimeWindow = {}): string {
  const order = filter.order ?? 'desc';
  const decoded = filter.cursor ? decodeEventCursor(filter.cursor) : null;
  const cursor = decoded?.order === order ? decoded : null;
  const where = timeRange(filter.from, filter.to);
  // A later page only needs the hours from the cursor's on, in the listing's direction: prune the others too.
  if (cursor && order === 'desc' && (filter.to === undefined || cursor.t < filter.to))
    where.push(...partitionPrune(undefined, cursor.t));
  if (cursor && order === 'asc' && (filter.from === undefined || cursor.t > filter.from))
    where.push(...partitionPrune(cursor.t, undefined));
  if (window.after !== undefined)
    where.push(
      ...partitionPrune(window.after, undefined),
      `event_time > make_timestamp(${Math.trunc(window.after) * 1000})`,
    );
  if (window.upTo !== undefined)
    where.push(
      ...partitionPrune(undefined, window.upTo),
      `event_time <= make_timestamp(${Math.trunc(window.upTo) * 1000})`,
    );
  where.push(...eventPredicates(filter));
  if (cursor) where.push(afterCursor(cursor));
  const columns = EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))).join(', ');
  const dir = order.toUpperCase();
  return `SELECT ${columns} FROM ${source}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY event_time ${dir}, id ${dir} LIMIT ${filter.limit + 1}`;
}

/**
 * One page of an alert's events (its kept ids), oldest first, with their raw layer. Only the hour
 * partitions of the alert's span [firstSeenMs, lastSeenMs] are read: the ids are matched there,
 * not in the whole lake. A cursor of `encodeEventCursor(t, id, 'asc')` continues after that row.
 * `source`: the `events` view, or a read_parquet(...) of those hours' files (LakeAccess.queryFiles).
 */
export function alertEventsSql(
  ids: readonly string[],
  span: { firstSeenMs: number; lastSeenMs: number },
  page: { limit: number; cursor?: string },
  source = 'events',
): string {
  const columns = [...EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))), 'raw'].join(', ');
  const decoded = page.cursor ? decodeEventCursor(page.cursor) : null;
  const cursor = decoded?.order === 'asc' ? decoded : null;
  const where = [
    ...partitionPrune(Math.max(span.firstSeenMs, cursor?.t ?? span.firstSeenMs), span.lastSeenMs),
    `id IN (${ids.map(sqlString).join(', ')})`,
  ];
  if (cursor) where.push(afterCursor(cursor));
  return `SELECT ${columns} FROM ${source} WHERE ${where.join(' AND ')} ORDER BY event_time ASC, id ASC LIMIT ${page.limit + 1}`;
}

/**
 * Every row of an alert's kept ids in the hour partitions of [from, to], oldest first, with the raw
 * layer (no cursor, no limit: the ids are few, and pageAlertEvents pages them). `source`: a
 * read_parquet(...) of those hours' files, of some log types or all (LakeAccess.queryFiles).
 */
export function alertEventRowsSql(
  ids: readonly string[],
  span: { from: number; to: number },
  source = 'events',
): string {
  const columns = [...EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))), 'raw'].join(', ');
  const where = [...partitionPrune(span.from, span.to), `id IN (${ids.map(sqlString).join(', ')})`];
  return `SELECT ${columns} FROM ${source} WHERE ${where.join(' AND ')} ORDER BY event_time ASC, id ASC`;
}

/**
 * One page of an alert's event rows (event_time in ms, id): sorted by (event_time, id) ascending,
 * those after the cursor's row (an 'asc' cursor; another is ignored, as alertEventsSql ignores it),
 * `limit` of them and whether more follow. Ids compare by code unit, as DuckDB compares VARCHARs
 * (event ids are base64url, ASCII).
 */
export function pageAlertEvents(
  rows: readonly Record<string, unknown>[],
  limit: number,
  cursor?: string,
): { events: Record<string, unknown>[]; more: boolean } {
  const decoded = cursor ? decodeEventCursor(cursor) : null;
  const after = decoded?.order === 'asc' ? decoded : null;
  const key = (r: Record<string, unknown>) => ({ t: Number(r.event_time), id: String(r.id) });
  const sorted = [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x.t - y.t || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  });
  const kept = after
    ? sorted.filter((r) => {
        const k = key(r);
        return k.t > after.t || (k.t === after.t && k.id > after.id);
      })
    : sorted;
  return { events: kept.slice(0, limit), more: kept.length > limit };
}
