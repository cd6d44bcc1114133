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
  while (start < text.length && text.charCodeAt(start) <= 32) start++;
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

// ISO 8601 / RFC 3339 with optional fraction (any digits) and offset Z, ±HH:MM, ±HHMM or ±HH.
// No offset means UTC. A space instead of T is accepted (Suricata and many app loggers use it).
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Epoch microseconds for an ISO 8601 timestamp, or undefined if it is not one.
 * Microseconds (an integer below 2^53) so Zeek's `...865716Z` round-trips exactly to seconds.
 */
export function isoToEpochMicros(text: string): number | undefined {
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = +m[6];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  let ms = Date.UTC(+m[1], month - 1, day, hour, minute, second);
  const tz = m[8];
  if (tz !== undefined && tz !== 'Z' && tz !== 'z') {
    const sign = tz.charCodeAt(0) === 45 /* - */ ? -1 : 1;
    const digits = tz.length === 6 ? tz.slice(1, 3) + tz.slice(4) : tz.slice(1);
    const offsetMin = +digits.slice(0, 2) * 60 + (digits.length > 2 ? +digits.slice(2, 4) : 0);
    ms -= sign * offsetMin * 60_000;
  }
  const frac = m[7];
  const micros = frac === undefined ? 0 : Math.round(+`0.${frac}` * 1e6);
  return ms * 1000 + micros;
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
export function firstPresent(o: Fields, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number') return k;
  }
  return undefined;
}
