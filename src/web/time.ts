/**
 * Time on the dashboard: one format everywhere (24-hour, `2026-12-07 17:52:57`), in UTC or the
 * browser's zone as the user picks, always with the zone named; the time range of every page as
 * text that fits in a URL (`now-15m` … `now`, or epoch ms), so a view can be shared. Pure: tested
 * under Node (test/web/time.test.ts).
 */
export type Zone = 'utc' | 'local';

export interface TimeRange {
  /** `now-15m`, `now-6h`, `now-7d`, `now`, or epoch milliseconds as text. */
  from: string;
  to: string;
}

export const DEFAULT_RANGE: TimeRange = { from: 'now-15m', to: 'now' };

export const QUICK_RANGES: ReadonlyArray<{ from: string; text: string }> = [
  { from: 'now-5m', text: 'Last 5 minutes' },
  { from: 'now-15m', text: 'Last 15 minutes' },
  { from: 'now-1h', text: 'Last hour' },
  { from: 'now-6h', text: 'Last 6 hours' },
  { from: 'now-24h', text: 'Last 24 hours' },
  { from: 'now-7d', text: 'Last 7 days' },
];

/** Refresh choices in ms; 0 is paused. */
export const REFRESH_CHOICES: ReadonlyArray<{ ms: number; text: string }> = [
  { ms: 0, text: 'paused' },
  { ms: 5_000, text: '5 s' },
  { ms: 10_000, text: '10 s' },
  { ms: 30_000, text: '30 s' },
  { ms: 60_000, text: '1 min' },
];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A range end to epoch ms, or undefined when it is not one (the page then falls back). */
export function resolveTime(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^now-(\d+)([smhd])$/.exec(t);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d{10,}$/.test(t)) return Number(t);
  return undefined;
}

export function isRelative(range: TimeRange): boolean {
  return range.to === 'now' && /^now-\d+[smhd]$/.test(range.from);
}

/** The range as epoch ms; an unreadable or reversed one becomes the default. */
export function resolveRange(range: TimeRange, nowMs: number): { fromMs: number; toMs: number } {
  const fromMs = resolveTime(range.from, nowMs);
  const toMs = resolveTime(range.to, nowMs);
  if (fromMs === undefined || toMs === undefined || fromMs >= toMs) return resolveRange(DEFAULT_RANGE, nowMs);
  return { fromMs, toMs };
}

export function rangeFromParams(params: URLSearchParams): TimeRange {
  const from = params.get('from') ?? DEFAULT_RANGE.from;
  const to = params.get('to') ?? DEFAULT_RANGE.to;
  const ok = resolveTime(from, 0) !== undefined && resolveTime(to, 0) !== undefined;
  return ok ? { from, to } : DEFAULT_RANGE;
}

const NICE_BUCKETS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/** A round bucket giving at most ~`maxBuckets` points over the range. */
export function bucketSeconds(fromMs: number, toMs: number, maxBuckets = 120): number {
  const wanted = (toMs - fromMs) / 1000 / maxBuckets;
  return NICE_BUCKETS_S.find((b) => b >= wanted) ?? 86_400;
}

/** How a range reads in the picker: its quick name, or from – to in the chosen zone. */
export function describeRange(range: TimeRange, zone: Zone): string {
  if (range.to === 'now') {
    const quick = QUICK_RANGES.find((q) => q.from === range.from);
    if (quick) return quick.text;
    const rel = /^now-(\d+)([smhd])$/.exec(range.from);
    if (rel) return `Last ${rel[1]}${rel[2]}`;
  }
  const now = Date.now();
  const { fromMs, toMs } = resolveRange(range, now);
  return `${formatTime(fromMs, zone)} – ${formatTime(toMs, zone)} ${zoneName(zone)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

// One formatter per zone: building one per call is too slow for a live list re-rendered often.
function formatter(zone: Zone): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone === 'utc' ? 'UTC' : undefined,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  return f;
}

function parts(ms: number, zone: Zone): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(ms)) out[p.type] = p.value;
  return out;
}

/** `2026-12-07 17:52:57` in the zone; `—` for anything that is not a time. */
export function formatTime(ms: unknown, zone: Zone): string {
  const n = typeof ms === 'number' ? ms : Number(ms);
  if (ms === null || ms === undefined || ms === '' || !Number.isFinite(n)) return '—';
  const p = parts(n, zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** `17:52:57` (or `17:52` when `seconds` is false), for chart axes. */
export function formatClock(ms: number, zone: Zone, seconds = true): string {
  const p = parts(ms, zone);
  return seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
}

/** `UTC`, or the browser's zone with its offset: `Europe/Berlin (UTC+01:00)`. */
export function zoneName(zone: Zone, atMs = Date.now()): string {
  if (zone === 'utc') return 'UTC';
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const minutes = -new Date(atMs).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const offset = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return name === 'UTC' ? 'UTC' : `${name} (${offset})`;
}

/** `<input type="datetime-local">` text ↔ epoch ms, in the chosen zone. */
export function inputToMs(value: string, zone: Zone): number | undefined {
  if (!value) return undefined;
  const ms = zone === 'utc' ? Date.parse(`${value}Z`) : new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

export function msToInput(ms: number, zone: Zone): string {
  return formatTime(ms, zone).replace(' ', 'T');
}

/**
 * The range as API parameters. A relative range gives `from` on a one-minute grid and no `to` (the
 * server takes now): the query text then changes once a minute, not at every render, and each
 * refresh in between reloads the same window up to the server's now.
 */
export function queryRange(range: TimeRange, nowMs: number): { from: number; to?: number } {
  const { fromMs, toMs } = resolveRange(range, nowMs);
  if (range.to === 'now') return { from: Math.floor(fromMs / 60_000) * 60_000 };
  return { from: fromMs, to: toMs };
}
