import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import { quoteIdent, sqlString } from '../core/sql.ts';
import type { LakeAccess } from './lake-access.ts';
import {
  EVENT_FILTER_PROPERTIES,
  type EventFilterQuery,
  eventPredicates,
  eventTimeRange,
} from './lake-sql.ts';

/**
 * GET /api/events/fields: the event search's field list (Kibana Discover's) computed by the
 * server over the search's range, not over the page the browser loaded. Its cost is bounded: it
 * reads the range's newest hours only — growing windows from the range's end (15 min, 1 h, 6 h,
 * 24 h at most), each query counting at most FIELD_SAMPLE_ROWS matching events, newest hours'
 * files first — and stops at the first window that holds that many, or when FIELD_BUDGET_MS is
 * spent (a rarely matching text search over a big lake): the answer is then the last window that
 * finished. It says what it covers: `read_from`..`read_to`, and `sampled: true` when the counts are
 * not those of every matching event of the range (the newest ones, or the newest hours').
 */

/** The fields listed, in this order: the four the search filters on, then informative ones. */
export const FIELD_LIST = [
  'log_type',
  'src_ip',
  'dst_ip',
  'user',
  'dst_port',
  'protocol',
  'direction',
  'outcome',
  'event_type',
] as const;

/** Most matching events counted: a range holding more is sampled (its newest events). */
export const FIELD_SAMPLE_ROWS = 20_000;
/** Most hours read, the range's newest (the last window). */
export const FIELD_SPAN_HOURS = 24;
/** The windows read one after the other, from the range's end, until one holds the sample. */
export const FIELD_WINDOWS_MS = [15 * 60_000, 3_600_000, 6 * 3_600_000] as const;
/** Time for the windows together; the window running then is interrupted, the last finished one answers. */
export const FIELD_BUDGET_MS = 3000;
/** Top values per field. */
export const FIELD_TOP = 5;
const HOUR_MS = 3_600_000;

export interface FieldFilter {
  from?: number;
  to?: number;
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  q?: string;
}

export interface FieldLimits {
  sampleRows: number;
  spanHours: number;
  top: number;
}

/** The part of [from, to] the field list reads at most: its newest `spanHours` (to defaults to now). */
export function fieldSpan(
  range: { from?: number; to?: number },
  spanHours: number,
  now: number,
): { from: number; to: number; cut: boolean } {
  const to = range.to ?? now;
  const earliest = to - spanHours * HOUR_MS;
  const cut = range.from === undefined || range.from < earliest;
  return { from: cut ? earliest : (range.from as number), to, cut };
}

/** The windows' starts, newest window first, each ending at the span's end; the last is the span. */
export function fieldWindows(span: { from: number; to: number }, sizesMs: readonly number[]): number[] {
  const starts = sizesMs.map((size) => span.to - size).filter((start) => start > span.from);
  return [...starts, span.from];
}

/**
 * One statement over `source` (the span's files, newest hour first): the first `sampleRows`
 * events that match, then each field's `top` values among them by count (ties by value), as rows
 * (field, value, n), and a row `rows` with the number of events counted.
 */
export function fieldValuesSql(filter: FieldFilter, source: string, limits: FieldLimits): string {
  // The event_time bounds only: the files are the span's hours already (and DuckDB 1.5 turns the
  // partitions' row-value bounds, under a LIMIT, into a BETWEEN of structs it refuses).
  const where = [...eventTimeRange(filter.from, filter.to), ...eventPredicates(filter)];
  const columns = FIELD_LIST.map(quoteIdent).join(', ');
  const sample = `SELECT ${columns} FROM ${source}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} LIMIT ${Math.trunc(limits.sampleRows)}`;
  const perField = FIELD_LIST.map((f) => {
    const v = `CAST(${quoteIdent(f)} AS VARCHAR)`;
    return `SELECT * FROM (SELECT ${sqlString(f)} AS field, ${v} AS value, count(*) AS n FROM s WHERE ${v} IS NOT NULL AND ${v} <> '' GROUP BY ALL ORDER BY n DESC, value LIMIT ${Math.trunc(limits.top)})`;
  });
  return [
    `WITH s AS MATERIALIZED (${sample})`,
    `SELECT 'rows' AS field, NULL::VARCHAR AS value, count(*) AS n FROM s`,
    ...perField.map((q) => `UNION ALL ${q}`),
  ].join(' ');
}

export interface FieldValues {
  /** Matching events the counts are over. */
  rows: number;
  /** The span read: the range's newest FIELD_SPAN_HOURS at most. */
  read_from: number;
  read_to: number;
  /**
   * True when a limit cut the answer: the range is longer than the span read, or sample_rows
   * matching events were counted (there may be more). The counts are then a sample: the newest.
   */
  sampled: boolean;
  sample_rows: number;
  span_hours: number;
  fields: Array<{ field: string; values: Array<{ value: string; n: number }> }>;
}

/** The statement's rows into the answer's counts, fields in FIELD_LIST's order, empty ones left out. */
export function fieldValues(rows: ReadonlyArray<readonly unknown[]>): Pick<FieldValues, 'rows' | 'fields'> {
  let counted = 0;
  const byField = new Map<string, Array<{ value: string; n: number }>>();
  for (const [field, value, n] of rows) {
    if (field === 'rows') counted = Number(n);
    else {
      const list = byField.get(String(field)) ?? [];
      list.push({ value: String(value), n: Number(n) });
      byField.set(String(field), list);
    }
  }
  return {
    rows: counted,
    fields: FIELD_LIST.filter((f) => byField.has(f)).map((f) => ({
      field: f,
      values: (byField.get(f) ?? []).sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : 1)),
    })),
  };
}

type FieldsQuery = EventFilterQuery;

export function registerEventFields(
  app: FastifyInstance,
  deps: { config: Config['serve']; lake: LakeAccess },
  parseTime: (value: string | undefined, name: string) => number | undefined,
): void {
  app.get<{ Querystring: FieldsQuery }>(
    '/api/events/fields',
    {
      config: { role: 'viewer' },
      schema: {
        summary: `Top values of each field over the events GET /api/events matches in the range: its newest ${FIELD_SPAN_HOURS} h at most, at most ${FIELD_SAMPLE_ROWS.toLocaleString('en')} matching events, newest first, within ${FIELD_BUDGET_MS} ms (read_from/read_to: the span the counts are over; sampled: true when they are not over every matching event of the range)`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...EVENT_FILTER_PROPERTIES,
          },
        },
      },
    },
    async (req): Promise<FieldValues> => {
      const q = req.query;
      const limits = { sampleRows: FIELD_SAMPLE_ROWS, spanHours: FIELD_SPAN_HOURS, top: FIELD_TOP };
      const range = { from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to') };
      if (range.from !== undefined && range.to !== undefined && range.from > range.to)
        throw new UsageError('from: must not be after to');
      const span = fieldSpan(range, limits.spanHours, Date.now());
      const answer = (from: number, counts: Pick<FieldValues, 'rows' | 'fields'>): FieldValues => ({
        ...counts,
        read_from: from,
        read_to: span.to,
        sampled: from > span.from || span.cut || counts.rows >= limits.sampleRows,
        sample_rows: limits.sampleRows,
        span_hours: limits.spanHours,
      });
      const view = q.log_type ?? 'events';
      const views = await deps.lake.views();
      if (!views.includes(view)) {
        if (view === 'events') return answer(span.from, { rows: 0, fields: [] });
        throw new UsageError(`log_type "${q.log_type}" has no data; known: ${views.join(', ')}`);
      }
      const budget = performance.now() + Math.min(FIELD_BUDGET_MS, deps.config.query_timeout_ms);
      let done: FieldValues | null = null;
      for (const from of fieldWindows(span, FIELD_WINDOWS_MS)) {
        const filter = { from, to: span.to, src_ip: q.src_ip, dst_ip: q.dst_ip, user: q.user, q: q.q };
        let result: Awaited<ReturnType<LakeAccess['queryFiles']>>;
        try {
          result = await deps.lake.queryFiles(
            { logType: q.log_type, from, to: span.to, newestFirst: true },
            (source) => fieldValuesSql(filter, source, limits),
            {
              deadline: budget,
              timeoutMs: deps.config.query_timeout_ms,
              maxRows: 1 + FIELD_LIST.length * FIELD_TOP,
            },
          );
        } catch (err) {
          // Out of time: the last window that finished answers (said by read_from and sampled).
          if (done && performance.now() >= budget - 20) break;
          throw err;
        }
        done = answer(from, result.rows.length === 0 ? { rows: 0, fields: [] } : fieldValues(result.rows));
        if (done.rows >= limits.sampleRows) break;
      }
      return done ?? answer(span.from, { rows: 0, fields: [] });
    },
  );
}
