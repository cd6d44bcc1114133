import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import { quoteIdent, sqlString } from '../core/sql.ts';
import type { LakeAccess } from './lake-access.ts';
import { eventPredicates, eventTimeRange } from './lake-sql.ts';

/**
 * GET /api/events/fields: the event search's field list (Kibana Discover's) computed by the
 * server over the search's range, not over the page the browser loaded. Its cost is bounded twice:
 * it reads only the newest FIELD_SPAN_HOURS of the range (a week's search reads its last day) and
 * counts at most FIELD_SAMPLE_ROWS matching events there, newest hours' files first. The answer
 * says what it covers: `read_from`..`read_to`, and `sampled: true` when either limit cut it (the
 * counts are then those of the range's newest events, not of all of them).
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
export const FIELD_SAMPLE_ROWS = 100_000;
/**
 * Most hours read, the range's newest: a rarely matching filter (a text search) over a week would
 * otherwise read the whole week to find its events.
 */
export const FIELD_SPAN_HOURS = 24;
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

/** The part of [from, to] the field list reads: its newest `spanHours` (to defaults to now). */
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

interface FieldsQuery {
  from?: string;
  to?: string;
  log_type?: string;
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  q?: string;
}

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
        summary: `Top values of each field over the events GET /api/events matches in the range: its newest ${FIELD_SPAN_HOURS} h at most, at most ${FIELD_SAMPLE_ROWS.toLocaleString('en')} matching events, newest hours first (sampled: true when a limit cut it; read_from/read_to: the span read)`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', description: 'epoch ms or ISO 8601' },
            to: { type: 'string', description: 'epoch ms or ISO 8601' },
            log_type: { type: 'string', pattern: '^[a-z0-9_]+$' },
            src_ip: { type: 'string', maxLength: 64 },
            dst_ip: { type: 'string', maxLength: 64 },
            user: { type: 'string', maxLength: 256 },
            q: { type: 'string', maxLength: 256 },
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
      const answer = (counts: Pick<FieldValues, 'rows' | 'fields'>): FieldValues => ({
        ...counts,
        read_from: span.from,
        read_to: span.to,
        sampled: span.cut || counts.rows >= limits.sampleRows,
        sample_rows: limits.sampleRows,
        span_hours: limits.spanHours,
      });
      const view = q.log_type ?? 'events';
      const views = await deps.lake.views();
      if (!views.includes(view)) {
        if (view === 'events') return answer({ rows: 0, fields: [] });
        throw new UsageError(`log_type "${q.log_type}" has no data; known: ${views.join(', ')}`);
      }
      const filter = { ...span, src_ip: q.src_ip, dst_ip: q.dst_ip, user: q.user, q: q.q };
      const result = await deps.lake.queryFiles(
        { logType: q.log_type, from: span.from, to: span.to, newestFirst: true },
        (source) => fieldValuesSql(filter, source, limits),
        { timeoutMs: deps.config.query_timeout_ms, maxRows: 1 + FIELD_LIST.length * FIELD_TOP },
      );
      return answer(result.rows.length === 0 ? { rows: 0, fields: [] } : fieldValues(result.rows));
    },
  );
}
