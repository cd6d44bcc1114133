import type { QueryOptions, QueryResult } from '../lake/query.ts';
import { decodeEventCursor, type EventFilter, eventsSql } from './lake-sql.ts';

/**
 * GET /api/events newest first, slice by slice: the window is cut into time slices growing
 * backwards from its end (the last hour, the 3 before, the 20 before, the 6 days before, the
 * rest) and the slices are searched in that order until the page is full. A search whose matches
 * are recent (the usual: the newest 100 events, a name seen every minute) reads an hour of the
 * lake, not the week: `ORDER BY event_time DESC LIMIT n` over the whole window would read every
 * row of it. The slices are disjoint (each ends 1 ms before the next one's start; event_time has
 * millisecond precision), so the pages are exactly those of the single query.
 */
export const SLICE_EDGES_MS = [1, 4, 24, 168].map((h) => h * 3_600_000);

export interface Slice {
  from?: number;
  to?: number;
}

/** The slices of [from, to] (either open), newest first, measured back from `top`. */
export function searchSlices(from: number | undefined, to: number | undefined, top: number): Slice[] {
  const slices: Slice[] = [];
  let upper = to;
  for (const edge of SLICE_EDGES_MS) {
    const start = top - edge;
    if (from !== undefined && start <= from) break;
    if (upper !== undefined && start > upper) continue;
    slices.push({ from: start, to: upper });
    upper = start - 1;
  }
  slices.push({ from, to: upper });
  return slices;
}

/**
 * Runs the search over the slices until `limit + 1` rows (one more tells that a next page exists).
 * `sqlFor` builds a slice's statement (null: nothing to read there).
 */
export async function searchEventsNewestFirst(
  run: (sql: string, options: QueryOptions) => Promise<QueryResult>,
  filter: EventFilter,
  sqlFor: (slice: EventFilter) => string | null | Promise<string | null>,
  options: { timeoutMs: number; nowMs?: number },
): Promise<QueryResult> {
  const cursor = filter.cursor ? decodeEventCursor(filter.cursor) : null;
  const top = Math.min(
    filter.to ?? Number.POSITIVE_INFINITY,
    cursor?.t ?? Number.POSITIVE_INFINITY,
    options.nowMs ?? Date.now(),
  );
  // One deadline for the whole search (performance.now()'s clock, as the query pools use).
  const deadline = performance.now() + options.timeoutMs;
  let out: QueryResult = { columns: [], rows: [], truncated: false, elapsedMs: 0 };
  let first = true;
  for (const slice of searchSlices(filter.from, filter.to, top)) {
    const need = filter.limit + 1 - out.rows.length;
    const sql = await sqlFor({ ...filter, ...slice, limit: need - 1 });
    if (sql === null) continue;
    const result = await run(sql, { deadline, maxRows: need });
    if (first) out = result;
    else out.rows.push(...result.rows);
    first = false;
    if (out.rows.length > filter.limit) break;
  }
  return out;
}

/** A view's search (the single-query form, over the lake's views). */
export function viewSql(view: string): (slice: EventFilter) => string {
  return (slice) => eventsSql(slice, view);
}
