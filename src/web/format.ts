/** Display helpers: times in the browser's locale, numbers grouped, labels from snake_case. */
// One formatter: toLocaleString builds a new one per call, too slow for a live list re-rendered
// several times a second.
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

export function formatTime(ms: unknown): string {
  const n = typeof ms === 'number' ? ms : Number(ms);
  if (!Number.isFinite(n)) return '—';
  return TIME_FORMAT.format(n);
}

export function formatNumber(n: unknown): string {
  const v = typeof n === 'number' ? n : Number(n);
  return Number.isFinite(v) ? v.toLocaleString() : '—';
}

export function label(text: string): string {
  return text.replaceAll('_', ' ');
}

export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `<input type="datetime-local">` value (local time, no zone) → epoch ms, or undefined. */
export function localInputToMs(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}
