import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isoToEpochMicros, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { decodeZeekJsonEscapes, roundMicros } from './zeek-escapes.ts';

/**
 * Zeek's JSON writer: flat dotted keys (`id.orig_h`), `ts` as epoch seconds or ISO 8601
 * (`LogAscii::json_timestamps`), plus the nested shape `{"dns": {...}}` used on Kafka topics
 * where the outer key is the log type. `_path` names the log type; `_write_ts` and `_system_name`
 * are kept in raw.
 *
 * To give the same raw record as the TSV writer for the same row (tested on WRCCDC 2018):
 * - ISO 8601 time strings become epoch seconds (numbers), as `time` columns are in TSV;
 * - non-integer numbers are rounded to microseconds: the TSV writer prints time, interval and
 *   double with six decimals while the JSON writer prints the full double (rtt 0.0008699893951416016
 *   vs 0.000870). Zeek's clock resolution is the microsecond, so nothing real is lost;
 * - `\xNN` escapes of bytes are decoded to the same text as in TSV (zeek-escapes.ts explains);
 * - `null` (an unset field with `json.include_unset_fields`) is dropped, as TSV unset is absent.
 */

function isZeekIsoTime(s: string): boolean {
  // The JSON writer's ISO form is exactly YYYY-MM-DDTHH:MM:SS(.ffffff)Z; check shape before regex.
  return (
    (s.length === 27 || s.length === 20) &&
    s.charCodeAt(10) === 84 /* T */ &&
    s.charCodeAt(s.length - 1) === 90
  );
}

function convertValue(v: unknown): unknown {
  if (typeof v === 'number') return roundMicros(v);
  if (typeof v === 'string') {
    if (isZeekIsoTime(v)) {
      const us = isoToEpochMicros(v);
      if (us !== undefined) return us / 1e6;
    }
    return decodeZeekJsonEscapes(v);
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = convertValue(v[i]);
  }
  return v;
}

/** The nested Kafka shape: one key, an object value, and none of the flat record's keys. */
function unwrapNested(o: Fields): { logType: string; inner: Fields } | undefined {
  let key: string | undefined;
  for (const k in o) {
    if (key !== undefined) return undefined;
    key = k;
  }
  if (key === undefined || key === 'ts') return undefined;
  const inner = o[key];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return undefined;
  return { logType: key, inner: inner as Fields };
}

class ZeekJsonParser implements Parser {
  readonly format = 'zeek-json';
  private readonly fallbackLogType: string;

  constructor(options: ParserOptions) {
    this.fallbackLogType = options.logType ?? 'unknown';
  }

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    let raw = line.value;
    let logType: string | undefined;
    const nested = unwrapNested(raw);
    if (nested !== undefined) {
      raw = nested.inner;
      logType = nested.logType;
    }
    for (const k in raw) {
      const v = raw[k];
      if (v === null) {
        delete raw[k];
        continue;
      }
      if (typeof v === 'boolean') continue;
      const c = convertValue(v); // arrays are converted in place
      if (c === v) continue;
      // JSON.parse makes `__proto__` an own property; assigning it would set the prototype.
      if (k === '__proto__')
        Object.defineProperty(raw, k, { value: c, enumerable: true, writable: true, configurable: true });
      else raw[k] = c;
    }
    const ts = raw.ts;
    if (ts !== undefined && typeof ts !== 'number')
      return reject('bad_timestamp', `ts=${String(ts).slice(0, 40)}`);
    const path = raw._path;
    if (typeof path === 'string') logType = path;
    return accept(
      'zeek',
      logType ?? this.fallbackLogType,
      raw,
      ts === undefined ? undefined : Math.round(ts * 1000),
    );
  }
}

function looksZeek(o: Fields): boolean {
  if (typeof o._path === 'string') return true;
  if ('id.orig_h' in o || ('uid' in o && 'ts' in o)) return true;
  const nested = unwrapNested(o);
  return nested !== undefined && ('ts' in nested.inner || 'uid' in nested.inner);
}

export const zeekJson: ParserDefinition = {
  format: 'zeek-json',
  stateless: true,
  source: 'zeek',
  summary: 'Zeek JSON logs (flat dotted keys or the nested {"<log type>": {...}} Kafka shape)',
  detect(sampleLines) {
    return 0.95 * jsonScore(sampleLines, looksZeek);
  },
  create(options = {}) {
    return new ZeekJsonParser(options);
  },
};
