/**
 * Timestamp renderings exactly as each tool writes them. All generated times are UTC, so the
 * offsets are fixed (+0000); parsers must still honour the offset they read.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** Zeek `time`: epoch seconds with exactly six decimals (`1521911720.865716`). */
export function zeekTime(ms: number, micros = 0): string {
  const seconds = Math.floor(ms / 1000);
  const frac = (ms - seconds * 1000) * 1000 + micros;
  return `${seconds}.${String(frac).padStart(6, '0')}`;
}

/** Zeek `#open` header: `2024-04-12-19-29-12`. */
export function zeekOpenTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}-${pad2(d.getUTCMinutes())}-${pad2(d.getUTCSeconds())}`;
}

// Lines come in time order, many per second: the `YYYY-MM-DDTHH:MM:SS` part is formatted once per
// second rather than per line.
let cachedSecond = Number.NaN;
let cachedPrefix = '';
function isoSecond(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return cachedPrefix;
}

/** `2017-01-30T16:12:36.066` — ISO 8601 UTC to the millisecond, without a zone. */
function isoMillis(ms: number): string {
  return `${isoSecond(ms)}.${pad3(ms - Math.floor(ms / 1000) * 1000)}`;
}

/** Suricata EVE `timestamp`: `2017-01-30T16:12:36.066011+0000` (microseconds, numeric offset). */
export function eveTime(ms: number, micros = 0): string {
  return `${isoMillis(ms)}${pad3(micros)}+0000`;
}

/** RFC 3164 syslog: `Feb 12 14:10:21`, day space-padded (`Sep  6`), no year. */
export function syslogTime(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** nginx `$time_local`: `04/Jan/2020:07:25:02 +0000`. */
export function nginxTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

/** ISO 8601 UTC with milliseconds: `2026-01-31T10:00:00.123Z` (auth, app and threat JSON). */
export function isoTime(ms: number): string {
  return `${isoMillis(ms)}Z`;
}
