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
  /** Opaque: the (event_time ms, id) of the last row of the previous page. */
  cursor?: string;
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

export function encodeEventCursor(eventTimeMs: number, id: string): string {
  return Buffer.from(JSON.stringify([eventTimeMs, id])).toString('base64url');
}

export function decodeEventCursor(cursor: string): { t: number; id: string } | null {
  try {
    const [t, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    return typeof t === 'number' && Number.isFinite(t) && typeof id === 'string' ? { t, id } : null;
  } catch {
    return null;
  }
}

/** Partition predicates so DuckDB prunes hour directories outside [from, to]. */
export function partitionPrune(from?: number, to?: number): string[] {
  const where: string[] = [];
  const key = (ms: number) => {
    const d = new Date(ms);
    return (
      d.getUTCFullYear() * 1_000_000 + (d.getUTCMonth() + 1) * 10_000 + d.getUTCDate() * 100 + d.getUTCHours()
    );
  };
  const expr = '(year * 1000000 + month * 10000 + day * 100 + hour)';
  if (from !== undefined) where.push(`${expr} >= ${key(from)}`);
  if (to !== undefined) where.push(`${expr} <= ${key(to)}`);
  return where;
}

export function timeRange(from?: number, to?: number): string[] {
  const where = partitionPrune(from, to);
  if (from !== undefined) where.push(`event_time >= make_timestamp(${Math.trunc(from) * 1000})`);
  if (to !== undefined) where.push(`event_time <= make_timestamp(${Math.trunc(to) * 1000})`);
  return where;
}

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

export function eventsSql(filter: EventFilter, view: string): string {
  const cursor = filter.cursor ? decodeEventCursor(filter.cursor) : null;
  const where = timeRange(filter.from, filter.to);
  // A later page only needs hours up to the cursor's: prune the newer partitions too.
  if (cursor && (filter.to === undefined || cursor.t < filter.to))
    where.push(...partitionPrune(undefined, cursor.t));
  where.push(...eventPredicates(filter));
  if (cursor) {
    const t = `make_timestamp(${Math.trunc(cursor.t) * 1000})`;
    where.push(`(event_time < ${t} OR (event_time = ${t} AND id < ${sqlString(cursor.id)}))`);
  }
  const columns = EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))).join(', ');
  return `SELECT ${columns} FROM ${sqlIdent(view)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY event_time DESC, id DESC LIMIT ${filter.limit + 1}`;
}

/**
 * The same page as eventsSql, over a list of files (`source`: a read_parquet(...) of the window's
 * hour files, event-search.ts) instead of a view: no partition columns, the time bounds only.
 */
export function eventsSqlFrom(filter: EventFilter, source: string): string {
  const cursor = filter.cursor ? decodeEventCursor(filter.cursor) : null;
  const where: string[] = [];
  if (filter.from !== undefined)
    where.push(`event_time >= make_timestamp(${Math.trunc(filter.from) * 1000})`);
  if (filter.to !== undefined) where.push(`event_time <= make_timestamp(${Math.trunc(filter.to) * 1000})`);
  where.push(...eventPredicates(filter));
  if (cursor) {
    const t = `make_timestamp(${Math.trunc(cursor.t) * 1000})`;
    where.push(`(event_time < ${t} OR (event_time = ${t} AND id < ${sqlString(cursor.id)}))`);
  }
  const columns = EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))).join(', ');
  return `SELECT ${columns} FROM ${source}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY event_time DESC, id DESC LIMIT ${filter.limit + 1}`;
}

export function eventsByIdsSql(ids: readonly string[]): string {
  const columns = [...EVENT_COLUMNS.map((c) => (c.includes(' ') ? c : sqlIdent(c))), 'raw'].join(', ');
  return `SELECT ${columns} FROM events WHERE id IN (${ids.map(sqlString).join(', ')}) ORDER BY event_time LIMIT ${ids.length}`;
}
