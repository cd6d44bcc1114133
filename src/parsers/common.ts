import type { Fields, ParsedRecord } from '../core/envelope.ts';
import type { ParseResult } from './parser.ts';

/**
 * The reject vocabulary shared by every parser (docs/parsers.md lists each with an example).
 * Keep it small: a reason names what is wrong with the input, `detail` says where.
 */
export const REJECT_REASONS = [
  'invalid_json',
  'not_an_object',
  'bad_timestamp',
  'bad_value',
  'no_header',
  'field_count_mismatch',
  'unrecognized_line',
  'line_too_long',
  'binary_data',
  'missing_field',
  'unknown_format',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The "no event here" verdict: blank lines, Zeek `#` headers. Shared so it allocates once. */
export const SKIPPED: ParseResult = { ok: true, records: [], skipped: true };

export function reject(reason: RejectReason, detail?: string): ParseResult {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

export function accept(
  source: string,
  logType: string,
  raw: Fields,
  eventTimeMs: number | undefined,
): ParseResult {
  const record: ParsedRecord =
    eventTimeMs === undefined
      ? { source, log_type: logType, raw }
      : { source, log_type: logType, raw, eventTimeMs };
  return { ok: true, records: [record] };
}

/** True for a line that is empty or only whitespace (carries no event). */
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

/**
 * Binary input: a NUL byte, or mostly replacement characters (invalid UTF-8 decoded as U+FFFD).
 * Text formats never carry raw NULs; Zeek and nginx escape them as `\x00`.
 */
export function looksBinary(text: string): boolean {
  if (text.indexOf('\u0000') !== -1) return true;
  let bad = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  return bad > 8 && bad * 4 > text.length;
}

/** The outcome of reading one line as a JSON object: the object, or the verdict (skip or reject). */
export type JsonLine = { value: Fields; verdict?: undefined } | { value?: undefined; verdict: ParseResult };

/** JSON.parse once; a reject for invalid JSON or a non-object. Blank lines are skipped. */
export function parseJsonObject(text: string): JsonLine {
  let start = 0;
  for (let c = text.charCodeAt(0); c === 32 || c === 9 || c === 13 || c === 10; c = text.charCodeAt(start))
    start++;
  if (start === text.length) return { verdict: SKIPPED };
  if (text.charCodeAt(start) !== 123 /* { */) {
    if (looksBinary(text)) return { verdict: reject('binary_data') };
    // Valid JSON that is not an object (an array, a number) is `not_an_object`, anything else invalid.
    try {
      JSON.parse(text);
    } catch {
      return { verdict: reject('invalid_json') };
    }
    return { verdict: reject('not_an_object') };
  }
  try {
    return { value: JSON.parse(text) as Fields };
  } catch (err) {
    return { verdict: reject('invalid_json', (err as Error).message.slice(0, 120)) };
  }
}

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// The last date converted and its day number: consecutive timestamps nearly always share the date.
let lastDateKey = -1;
let lastDays = 0;

/** daysFromCivil, remembered for the last date (the divisions are a third of a timestamp's cost). */
function daysOf(year: number, month: number, day: number): number {
  const key = year * 10_000 + month * 100 + day;
  if (key !== lastDateKey) {
    lastDays = daysFromCivil(year, month, day);
    lastDateKey = key;
  }
  return lastDays;
}

/** Value of `count` ASCII digits at `at`, or -1 if any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Epoch microseconds for an ISO 8601 / RFC 3339 timestamp, or undefined if it is not one:
 * `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM|±HH]`, no offset meaning UTC (Suricata writes
 * `+0100`, Zeek `Z`, many loggers a space instead of T). Microseconds, an integer below 2^53, so
 * Zeek's `...865716Z` round-trips exactly to seconds. Hand-scanned: it runs for most JSON events.
 */
export function isoToEpochMicros(text: string): number | undefined {
  const n = text.length;
  if (n < 19) return undefined;
  const t = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    (t !== 84 && t !== 32 && t !== 116) ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  let i = 19;
  let micros = 0;
  if (i < n && (text.charCodeAt(i) === 46 || text.charCodeAt(i) === 44) /* . or , */) {
    i++;
    let scale = 100_000;
    const fracStart = i;
    while (i < n) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (scale >= 1) micros += d * scale;
      else if (scale === 0.1 && d >= 5) micros += 1; // round at the 7th digit
      scale /= 10;
      i++;
    }
    if (i === fracStart || i - fracStart > 9) return undefined;
  }
  let offsetMin = 0;
  if (i < n) {
    const c = text.charCodeAt(i);
    if ((c === 90 || c === 122) /* Z z */ && i + 1 === n) {
      i++;
    } else if (c === 43 || c === 45) {
      const rest = n - i - 1;
      const oh = digits(text, i + 1, 2);
      let om = 0;
      if (rest === 2) om = 0;
      else if (rest === 4) om = digits(text, i + 3, 2);
      else if (rest === 5 && text.charCodeAt(i + 3) === 58) om = digits(text, i + 4, 2);
      else return undefined;
      if (oh < 0 || om < 0) return undefined;
      offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
      i = n;
    } else {
      return undefined;
    }
  }
  if (i !== n) return undefined;
  const seconds = daysOf(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMin * 60;
  return seconds * 1_000_000 + micros;
}

export function isoToEpochMs(text: string): number | undefined {
  const us = isoToEpochMicros(text);
  return us === undefined ? undefined : Math.floor(us / 1000);
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** Month index (0-11) for an English three-letter month abbreviation, or -1. */
export function monthIndex(abbrev: string): number {
  return MONTHS[abbrev] ?? -1;
}

/**
 * A time value from a JSON field: an ISO 8601 string, epoch seconds, or epoch milliseconds
 * (numbers above 1e11 are milliseconds: 1e11 seconds is the year 5138). Undefined if neither.
 */
export function timeValueToMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return Math.abs(value) >= 1e11 ? Math.floor(value) : Math.floor(value * 1000);
  }
  if (typeof value === 'string') {
    const iso = isoToEpochMs(value);
    if (iso !== undefined) return iso;
    if (value.length > 0 && value.length < 25) {
      const n = Number(value);
      if (Number.isFinite(n)) return timeValueToMs(n);
    }
  }
  return undefined;
}

/** Parses up to `max` non-blank sample lines as JSON objects (format detection only). */
export function sampleObjects(sampleLines: readonly string[], max = 8): { objects: Fields[]; tried: number } {
  const objects: Fields[] = [];
  let tried = 0;
  for (const line of sampleLines) {
    if (tried >= max) break;
    if (isBlank(line)) continue;
    tried++;
    const t = line.trimStart();
    if (t.charCodeAt(0) !== 123) continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) objects.push(v as Fields);
    } catch {
      // not JSON: counts as tried, not as matching
    }
  }
  return { objects, tried };
}

/** Fraction of sample objects for which `predicate` holds (0 when nothing was tried). */
export function jsonScore(sampleLines: readonly string[], predicate: (o: Fields) => boolean): number {
  const { objects, tried } = sampleObjects(sampleLines);
  if (tried === 0) return 0;
  let hits = 0;
  for (const o of objects) if (predicate(o)) hits++;
  return hits / tried;
}

/** First key of `keys` present in `o` with a string or number value. */
/**
 * The event time of a JSON event, one rule for every JSON parser: the first of `keys` holding a
 * string or number, read by timeValueToMs. Undefined when none is present (the caller decides
 * whether an event may have no time); a `bad_timestamp` reject naming the key and the value when
 * the value is not a time. Returns the reject itself rather than wrapping, so the hot path
 * allocates nothing: `typeof t === 'object'` is the reject.
 */
export function jsonEventTime(raw: Fields, keys: readonly string[]): number | undefined | ParseResult {
  const key = firstPresent(raw, keys);
  if (key === undefined) return undefined;
  const ms = timeValueToMs(raw[key]);
  return ms === undefined ? reject('bad_timestamp', `${key}=${String(raw[key]).slice(0, 40)}`) : ms;
}

export function firstPresent(o: Fields, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number') return k;
  }
  return undefined;
}
