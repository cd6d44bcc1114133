import type { Envelope, InputRecord, ParsedRecord, Reject } from '../core/envelope.ts';
import { parseFormatHint } from '../core/format-hint.ts';
import { eventId } from '../core/ids.ts';
import type { Enricher } from '../enrich/enricher.ts';
import type { Normalizer } from '../normalize/normalize.ts';
import { detectFormat } from '../parsers/detect-format.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from '../parsers/parser.ts';
import { claimedByAFormat, FORMATS, parserFor } from '../parsers/registry.ts';

/**
 * Parse → normalize → enrich for one input record: the one front half of socstream. The process
 * role, `parse`, `detect`, `rules test`, `hunt` and the benches all go through it, so a line gives
 * the same envelope (and the same reject) whichever way it came in.
 *
 * Parsers are kept per stream (a file, a topic-partition, a syslog peer) because Zeek TSV headers
 * and syslog year inference carry state from line to line. A stream's format comes from its
 * declaration (a file read whole detects it from its first lines), else from the record's hint
 * (configured or sent along), else it is detected from the record itself; a record whose format
 * cannot be told is a reject, never a throw.
 */
export interface ProcessorOptions {
  normalizer: Normalizer;
  /** Without one only the normalized layer is filled (`enriched` stays empty). */
  enricher?: Enricher;
  /** Per-format parser settings, validated (config `parsers.settings`, validateParserSettings). */
  parserSettings?: Record<string, Record<string, unknown>>;
  /** Streams whose parsers are kept; the least recently used is dropped beyond this. */
  maxStreams?: number;
  now?: () => number;
}

export interface ProcessOutput {
  envelopes: Envelope[];
  rejects: Reject[];
  /** Records that carry no event (a Zeek `#` header line): neither accepted nor rejected. */
  skipped: number;
}

/** What a reader knows of a stream before its first record (`declare`). */
export interface StreamDeclaration {
  /** `format` or `format:log_type`; detected per record when absent. */
  format?: string;
  /** Reference time for formats without a year (a file's mtime). */
  referenceTimeMs?: number;
}

export interface Processor {
  /** Appends the record's envelopes and rejects to `out`. */
  process(record: InputRecord, stream: string, out: ProcessOutput): void;
  /** Fixes a stream's format and reference time before its first record. */
  declare(stream: string, declaration: StreamDeclaration): void;
  /**
   * The formats a stream's records (with this hint) were parsed as: the stream's own, then those
   * told line by line where the stream mixes formats.
   */
  formatsOf(stream: string, hint: string | undefined): string[];
  /**
   * End of a stream's input: what its parser still holds (a Kafka broker ERROR waiting for the rest
   * of its stack trace) is appended to `out`, identified after `last`, the stream's last record.
   */
  end(stream: string, hint: string | undefined, last: InputRecord, out: ProcessOutput): void;
}

/** Record index of what a parser hands out at the end: after any index the last line itself used. */
const FLUSH_INDEX = 1_000_000;

export function emptyOutput(): ProcessOutput {
  return { envelopes: [], rejects: [], skipped: 0 };
}

const UNKNOWN = 'unknown';
const KNOWN_FORMATS: ReadonlySet<string> = new Set(FORMATS);

export function createProcessor(options: ProcessorOptions): Processor {
  const { normalizer, enricher } = options;
  const now = options.now ?? Date.now;
  const maxStreams = options.maxStreams ?? 10_000;
  const parsers = new Map<string, Parser>();
  const declared = new Map<string, StreamDeclaration>();
  const settingsByFormat = new Map<string, Record<string, unknown> | undefined>();

  // The last (stream, hint) → parser: consecutive records nearly always share them (a batch is one
  // topic-partition), which saves building a key string and a map lookup per record.
  let lastStream: string | undefined;
  let lastHint: string | undefined;
  let lastParser: Parser | undefined;
  /**
   * Parsers whose format was told from the data (no hint, no declaration): their streams may mix
   * formats (a syslog feed, stdin, `generate --scenario mixed > all.log`), so a line they reject or
   * cannot type is detected on its own (mixedParser). Lines they parse pay nothing.
   */
  const detectedParsers = new WeakSet<Parser>();
  /** Detected parsers of a catch-all format (generic json): a line another format claims goes to it. */
  const catchAllParsers = new WeakSet<Parser>();
  /** Formats met on a stream beside its first one (per-line detection), for formatsOf. */
  const lineFormats = new Map<string, Set<string>>();
  /** A stateless format's parser serves every stream its hint names (Kafka topics keyed by host). */
  let lastShared = false;
  const shared = new Map<string, Parser>();

  /** A format's settings once: the configured ones (validated at load) or the format's defaults. */
  function settingsOf(def: ParserDefinition): Record<string, unknown> | undefined {
    if (settingsByFormat.has(def.format)) return settingsByFormat.get(def.format);
    const configured = options.parserSettings?.[def.format];
    const settings =
      configured ?? (def.settings?.parse({}) as Record<string, unknown> | undefined) ?? undefined;
    settingsByFormat.set(def.format, settings);
    return settings;
  }

  function parserOf(stream: string, record: InputRecord): Parser | undefined {
    if (lastParser !== undefined && record.formatHint === lastHint) {
      if (stream === lastStream) return lastParser;
      // The hint names the format; a declared stream may name another one.
      if (lastShared && lastHint !== undefined && (declared.size === 0 || !declared.has(stream)))
        return lastParser;
    }
    const parser = lookupParser(stream, record);
    lastStream = stream;
    lastHint = record.formatHint;
    lastParser = parser;
    lastShared = parser !== undefined && shared.get(sharedKey(parser.format, record.formatHint)) === parser;
    return parser;
  }

  function lookupParser(stream: string, record: InputRecord): Parser | undefined {
    const key = `${stream}\u0000${record.formatHint ?? ''}`;
    const cached = parsers.get(key);
    if (cached) return cached;
    const declaration = declared.get(stream);
    const hint = declaration?.format ?? record.formatHint;
    const parts = parseFormatHint(hint);
    const known = knownFormat(parts.format);
    const format = known ?? detectFormat([record.text], settingsOf);
    if (!format) return undefined;
    const def = parserFor(format);
    const sharedAs = def.stateless && declaration === undefined ? sharedKey(format, hint) : undefined;
    let parser = sharedAs === undefined ? undefined : shared.get(sharedAs);
    if (parser === undefined) {
      const parserOptions: ParserOptions = { settings: settingsOf(def) };
      if (parts.logType !== undefined) parserOptions.logType = parts.logType;
      if (parts.nameLogType !== undefined) parserOptions.nameLogType = parts.nameLogType;
      if (declaration?.referenceTimeMs !== undefined)
        parserOptions.referenceTimeMs = declaration.referenceTimeMs;
      parser = def.create(parserOptions);
      if (sharedAs !== undefined) shared.set(sharedAs, parser);
    }
    if (known === undefined) {
      detectedParsers.add(parser);
      if (def.catchAll === true) catchAllParsers.add(parser);
    }
    if (parsers.size >= maxStreams) parsers.delete(parsers.keys().next().value as string);
    parsers.set(key, parser);
    return parser;
  }

  /** The parser of the format this one line shows, when a detected stream's parser did not fit it. */
  function mixedParser(stream: string, record: InputRecord, current: string): Parser | undefined {
    const format = detectFormat([record.text], settingsOf);
    if (format === undefined || format === current) return undefined;
    const key = `${stream}\u0000#${format}`;
    let parser = parsers.get(key);
    if (parser === undefined) {
      const def = parserFor(format);
      const parserOptions: ParserOptions = { settings: settingsOf(def) };
      const declaration = declared.get(stream);
      const referenceTimeMs = declaration?.referenceTimeMs;
      if (referenceTimeMs !== undefined) parserOptions.referenceTimeMs = referenceTimeMs;
      // The input's name stays a hint for the line's own format (a Zeek JSON line in `conn.log`).
      const nameLogType = parseFormatHint(declaration?.format ?? record.formatHint).nameLogType;
      if (nameLogType !== undefined) parserOptions.nameLogType = nameLogType;
      parser = def.create(parserOptions);
      if (parsers.size >= maxStreams) parsers.delete(parsers.keys().next().value as string);
      parsers.set(key, parser);
    }
    const formats = lineFormats.get(stream);
    if (formats) formats.add(format);
    else lineFormats.set(stream, new Set([format]));
    return parser;
  }

  function emit(
    parsed: readonly ParsedRecord[],
    record: InputRecord,
    firstIndex: number,
    out: ProcessOutput,
  ) {
    const ingestTime = now();
    for (let i = 0; i < parsed.length; i++) {
      const env = normalizer.normalize(parsed[i], eventId(record.position, firstIndex + i), ingestTime);
      enricher?.enrich(env, normalizer.enrichmentsFor(env.source, env.log_type));
      out.envelopes.push(env);
    }
  }

  return {
    end(stream, hint, last, out) {
      const held = parsers.get(`${stream}\u0000${hint ?? ''}`)?.flush?.();
      if (held?.ok === true) emit(held.records, last, FLUSH_INDEX, out);
    },
    formatsOf(stream, hint) {
      const first = parsers.get(`${stream}\u0000${hint ?? ''}`)?.format;
      return [...(first ? [first] : []), ...(lineFormats.get(stream) ?? [])];
    },
    declare(stream, declaration) {
      declared.set(stream, declaration);
      if (stream === lastStream) lastParser = undefined;
    },
    process(record, stream, out) {
      if (record.tooLong) {
        out.rejects.push(rejectOf(record, 'line_too_long', 'cut at the max line bytes', UNKNOWN));
        return;
      }
      const parser = parserOf(stream, record);
      if (!parser) {
        out.rejects.push(
          rejectOf(record, 'unknown_format', 'no parser recognises this line; name the format', UNKNOWN),
        );
        return;
      }
      let result = parser.parse(record);
      let format = parser.format;
      if (
        detectedParsers.has(parser) &&
        (!fits(result) || (catchAllParsers.has(parser) && claimedElsewhere(result)))
      ) {
        // A stream whose format was told from its data may mix formats: this line on its own.
        const other = mixedParser(stream, record, parser.format);
        const again = other?.parse(record);
        if (other !== undefined && again !== undefined && fits(again)) {
          result = again;
          format = other.format;
        }
      }
      if (!result.ok) {
        out.rejects.push(rejectOf(record, result.reason, result.detail, format));
        return;
      }
      const parsed = result.records;
      if (parsed.length === 0) {
        out.skipped++;
        return;
      }
      emit(parsed, record, 0, out);
    },
  };
}

function sharedKey(format: string, hint: string | undefined): string {
  return `${format}\u0000${hint ?? ''}`;
}

/** A catch-all's record whose object another format claims (an EVE line in a generic JSON stream). */
function claimedElsewhere(result: ParseResult): boolean {
  return result.ok && result.records.length === 1 && claimedByAFormat(result.records[0].raw);
}

/** A parse that took the line as its own: no reject, and no record its parser could not type. */
function fits(result: ParseResult): boolean {
  if (!result.ok) return false;
  for (const r of result.records) if (r.log_type === UNKNOWN) return false;
  return true;
}

/** The hint's format when it is one (core/format-hint.ts: `zeek-tsv:conn`, `json@firewall`, `auto@dns`). */
function knownFormat(format: string | undefined): string | undefined {
  return format !== undefined && KNOWN_FORMATS.has(format) ? format : undefined;
}

/** A reject names its format and the source family that format produces (`zeek-tsv` → `zeek`). */
function rejectOf(record: InputRecord, reason: string, detail: string | undefined, format: string): Reject {
  const reject: Reject = {
    reason,
    format,
    source: format === UNKNOWN ? UNKNOWN : (parserFor(format).source ?? format),
    position: record.position,
    receivedAt: record.receivedAt,
    text: record.text,
    byteLength: record.byteLength,
  };
  if (detail !== undefined) reject.detail = detail;
  return reject;
}
