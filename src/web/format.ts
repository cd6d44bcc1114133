/** Display helpers: times in one format and the chosen zone (time.ts), numbers grouped, labels from snake_case. */
import { formatTime as formatIn, type Zone, zoneName } from './time.ts';

const ZONE_KEY = 'socstream.zone';
let zone: Zone = 'local';

/** The zone every time on the dashboard is shown in (kept in localStorage, default the browser's). */
export function currentZone(): Zone {
  return zone;
}

export function loadZone(): Zone {
  zone = globalThis.localStorage?.getItem(ZONE_KEY) === 'utc' ? 'utc' : 'local';
  return zone;
}

export function saveZone(z: Zone): void {
  zone = z;
  globalThis.localStorage?.setItem(ZONE_KEY, z);
}

export function formatTime(ms: unknown): string {
  return formatIn(ms, zone);
}

export function currentZoneName(): string {
  return zoneName(zone);
}

export function formatNumber(n: unknown): string {
  const v = typeof n === 'number' ? n : Number(n);
  return Number.isFinite(v) ? v.toLocaleString('en-US') : '—';
}

export function label(text: string): string {
  return text.replaceAll('_', ' ');
}

export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
