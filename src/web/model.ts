/**
 * The dashboard's pure logic (no DOM, no Preact): chart series from /api/stats rows, the events/s
 * figure, which live alerts belong in a filtered list, the triage buttons the workflow allows.
 * Kept apart so it is unit-tested under Node (test/web/model.test.ts).
 */
import type { Alert, AlertStatus, LiveItem, Stats } from './types.ts';

export interface Series {
  name: string;
  values: Array<number | null>;
}

/** The lake is written in flushes, so the newest bucket is partial: events/s leaves it out. */
export const RATE_WINDOW_BUCKETS = 6;

/**
 * Rows of (bucket, log type, n) → one x axis (epoch seconds) and one series per log type (0 where
 * missing), the busiest type first so the most visible styles go to the biggest lines.
 */
export function toSeries(rows: Stats['by_type']): { x: number[]; series: Series[] } {
  const times = [...new Set(rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const byType = new Map<string, number[]>();
  for (const r of rows) {
    const values = byType.get(r.log_type) ?? times.map(() => 0);
    byType.set(r.log_type, values);
    values[index.get(Number(r.t)) ?? 0] += Number(r.n);
  }
  const total = (v: number[]) => v.reduce((a, b) => a + b, 0);
  return {
    x: times.map((t) => t / 1000),
    series: [...byType]
      .sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]))
      .map(([name, values]) => ({ name, values })),
  };
}

/**
 * The lake is written in flushes (lake.flush_interval_seconds, 30 s by default): events of the last
 * half minute may not be in it yet.
 */
export const LAKE_LAG_MS = 30_000;

/**
 * The start (epoch s) of the last bucket when it may still be filling: it ends after `toMs`, or
 * so close before it that a lake flush may still be due. Undefined when it is complete.
 */
export function partialBucketStart(x: number[], bucketSeconds: number, toMs: number): number | undefined {
  const last = x[x.length - 1];
  if (last === undefined) return undefined;
  return (last + bucketSeconds) * 1000 > toMs - LAKE_LAG_MS ? last : undefined;
}

/** Events per second over the last complete buckets (up to RATE_WINDOW_BUCKETS of them). */
export function eventsPerSecond(rows: Stats['by_type'], bucketSeconds: number): number {
  const totals = new Map<number, number>();
  for (const r of rows) totals.set(Number(r.t), (totals.get(Number(r.t)) ?? 0) + Number(r.n));
  const complete = [...totals]
    .sort((a, b) => a[0] - b[0])
    .slice(0, -1)
    .slice(-RATE_WINDOW_BUCKETS);
  if (complete.length === 0) return 0;
  return complete.reduce((s, [, n]) => s + n, 0) / (complete.length * bucketSeconds);
}

export interface AlertFilters {
  status: string;
  level: string;
  rule_id: string;
  entity: string;
}

export const NO_FILTERS: AlertFilters = { status: '', level: '', rule_id: '', entity: '' };

export function filtersFromParams(params: URLSearchParams): AlertFilters {
  return {
    status: params.get('status') ?? '',
    level: params.get('level') ?? '',
    rule_id: params.get('rule_id') ?? '',
    entity: params.get('entity') ?? '',
  };
}

export type AlertSort = 'last_seen' | 'first_seen' | 'level' | 'count';

export const SORTS: ReadonlyArray<{ key: AlertSort; text: string }> = [
  { key: 'last_seen', text: 'last seen, newest first' },
  { key: 'first_seen', text: 'first seen, newest first' },
  { key: 'level', text: 'level, most severe first' },
  { key: 'count', text: 'event count, largest first' },
];

const LEVEL_RANK: Record<string, number> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

/**
 * The loaded alerts in the chosen order (ties: newest last_seen first, then id, so it is stable).
 * The server already sorted the whole result by the same key (GET /api/alerts?sort=); this keeps
 * the loaded pages in order when live alerts are merged in.
 */
export function sortAlerts(list: readonly Alert[], sort: AlertSort): Alert[] {
  const key: Record<AlertSort, (a: Alert) => number> = {
    last_seen: (a) => a.last_seen,
    first_seen: (a) => a.first_seen,
    level: (a) => LEVEL_RANK[a.level] ?? -1,
    count: (a) => a.count,
  };
  const k = key[sort];
  // Ties by id, descending, as the server orders its keyset pages (alert-store-sql.ts): the rows a
  // "More alerts" page appends stay below the rows before them, a tie group across pages included.
  return [...list].sort((a, b) => k(b) - k(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Whether a live alert belongs in the list the user is looking at. */
export function matchesFilters(a: Alert, f: AlertFilters): boolean {
  return (
    (!f.status || a.status === f.status) &&
    (!f.level || a.level === f.level) &&
    (!f.rule_id || a.rule_id === f.rule_id) &&
    (!f.entity || a.entity === f.entity)
  );
}

/**
 * An alert from the live stream or a triage answer into the shown list: one already listed is
 * replaced in place (or leaves when it no longer matches); a new one that matches goes first.
 */
export function applyAlert(list: Alert[], alert: Alert, f: AlertFilters): Alert[] {
  const listed = list.some((a) => a.id === alert.id);
  if (!matchesFilters(alert, f)) return listed ? list.filter((a) => a.id !== alert.id) : list;
  return listed ? list.map((a) => (a.id === alert.id ? alert : a)) : [alert, ...list];
}

export function canTriage(role: string | null): boolean {
  return role === 'analyst' || role === 'admin';
}

/** The status buttons the workflow allows from each status (src/sinks/alert-store.ts). */
export const TRANSITIONS: Record<AlertStatus, Array<{ to: AlertStatus; text: string }>> = {
  new: [
    { to: 'acknowledged', text: 'Acknowledge' },
    { to: 'closed', text: 'Close' },
    { to: 'false_positive', text: 'False positive' },
  ],
  acknowledged: [
    { to: 'closed', text: 'Close' },
    { to: 'false_positive', text: 'False positive' },
    { to: 'new', text: 'Reopen' },
  ],
  closed: [{ to: 'new', text: 'Reopen' }],
  false_positive: [{ to: 'new', text: 'Reopen' }],
};

/**
 * The "What" of an event row: the most telling thing it carries — an IDS signature, the DNS name,
 * the HTTP request, the message — and for flows and TLS, which carry none of these, the protocol,
 * direction and outcome rather than the log type again.
 */
export function eventHeadline(e: Record<string, unknown>): string {
  const s = (k: string) => {
    const v = e[k];
    return v === null || v === undefined || v === '' ? '' : String(v);
  };
  if (s('signature')) return s('signature');
  if (s('dns_query')) return `DNS ${s('dns_query')}`;
  if (s('url'))
    return [s('http_method'), s('url'), s('http_status') && `→ ${s('http_status')}`]
      .filter(Boolean)
      .join(' ');
  if (s('message')) return s('message');
  const type = s('event_type');
  const parts = [
    type && type !== s('log_type') && type !== s('event_class') ? label(type) : '',
    s('protocol'),
    s('direction'),
    s('outcome') && s('outcome') !== 'unknown' ? s('outcome') : '',
  ].filter(Boolean);
  return parts.join(' · ');
}

function label(text: string): string {
  return text.replaceAll('_', ' ');
}

/** The fields the event search filters on, in the order the field list shows them. */
export const FILTER_FIELDS = ['log_type', 'src_ip', 'dst_ip', 'user'] as const;

/** Top values of each field among loaded rows (Discover's field list): value, count, most first. */
export function topValues(
  rows: ReadonlyArray<Record<string, unknown>>,
  fields: readonly string[],
  limit = 5,
): Array<{ field: string; values: Array<{ value: string; n: number }> }> {
  return fields
    .map((field) => {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const v = r[field];
        if (v === null || v === undefined || v === '') continue;
        const key = String(v);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const values = [...counts]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, limit)
        .map(([value, n]) => ({ value, n }));
      return { field, values };
    })
    .filter((f) => f.values.length > 0);
}

/** What the alert's events were aimed at: destination addresses, else hosts, most hit first. */
export function attackedTargets(
  events: ReadonlyArray<Record<string, unknown>>,
): Array<{ field: string; value: string; n: number }> {
  for (const field of ['dst_ip', 'host']) {
    const counts = new Map<string, number>();
    for (const e of events) {
      const v = e[field];
      if (v !== null && v !== undefined && v !== '') counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
    if (counts.size > 0)
      return [...counts]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 5)
        .map(([value, n]) => ({ field, value, n }));
  }
  return [];
}

/** The event search for an alert's entity: by its group field when known, else IP vs user by shape. */
export function entityEventFilter(a: Alert): Record<string, string> | null {
  if (!a.entity) return null;
  const field = Object.entries(a.group).find(([, v]) => v === a.entity)?.[0];
  if (field === 'src_ip' || field === 'dst_ip' || field === 'user') return { [field]: a.entity };
  if (field === 'host') return { q: a.entity };
  return /^[0-9a-f:.]+$/i.test(a.entity) && a.entity.includes('.')
    ? { src_ip: a.entity }
    : { user: a.entity };
}

/** When a live item happened: an event's time, an alert's latest evidence (last_seen). */
export function liveTime(item: LiveItem): number {
  const t = item.kind === 'alert' ? item.data.last_seen : Number(item.data.event_time);
  return Number.isFinite(t) ? t : 0;
}

/**
 * New live items into the shown list: newest time first (items from several partitions arrive out
 * of order), an alert shown once in its latest version (an update replaces the row), at most `max`.
 */
export function mergeLive(list: readonly LiveItem[], batch: readonly LiveItem[], max: number): LiveItem[] {
  const updated = new Map<string, LiveItem>();
  for (const i of batch) if (i.kind === 'alert') updated.set(i.data.id, i);
  const kept = list.filter((i) => i.kind !== 'alert' || !updated.has(i.data.id));
  const fresh = batch.filter((i) => i.kind !== 'alert' || updated.get(i.data.id) === i);
  return [...kept, ...fresh].sort((a, b) => liveTime(b) - liveTime(a) || b.seq - a.seq).slice(0, max);
}

/**
 * Alert timeline rows (bucket start ms, level, n) → one bar per bucket over the whole range
 * (empty buckets 0, so the axis spans the range), x in epoch seconds.
 */
export function alertBars(
  rows: ReadonlyArray<{ t: number; n: number }>,
  fromMs: number,
  toMs: number,
  bucketSeconds: number,
): { x: number[]; series: Series[] } {
  const bucketMs = bucketSeconds * 1000;
  const totals = new Map<number, number>();
  for (const r of rows) totals.set(r.t, (totals.get(r.t) ?? 0) + r.n);
  const x: number[] = [];
  const values: number[] = [];
  for (let t = fromMs; t < toMs; t += bucketMs) {
    x.push(t / 1000);
    values.push(totals.get(t) ?? 0);
  }
  return { x, series: [{ name: 'alerts', values }] };
}
