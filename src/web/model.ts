/**
 * The dashboard's pure logic (no DOM, no Preact): chart series from /api/stats rows, the events/s
 * figure, which live alerts belong in a filtered list, the triage buttons the workflow allows.
 * Kept apart so it is unit-tested under Node (test/web/model.test.ts).
 */
import type { Alert, AlertStatus, Stats } from './types.ts';

export interface Series {
  name: string;
  values: Array<number | null>;
}

/** The lake is written in flushes, so the newest bucket is partial: events/s leaves it out. */
export const RATE_WINDOW_BUCKETS = 6;

/** Rows of (bucket, log type, n) → one x axis (epoch seconds) and one series per log type (0 where missing). */
export function toSeries(rows: Stats['by_type']): { x: number[]; series: Series[] } {
  const times = [...new Set(rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const byType = new Map<string, number[]>();
  for (const r of rows) {
    const values = byType.get(r.log_type) ?? times.map(() => 0);
    byType.set(r.log_type, values);
    values[index.get(Number(r.t)) ?? 0] += Number(r.n);
  }
  return {
    x: times.map((t) => t / 1000),
    series: [...byType].map(([name, values]) => ({ name, values })),
  };
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
