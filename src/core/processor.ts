import type { Enricher } from '../enrich/enricher.ts';
import type { Normalizer } from '../normalize/normalize.ts';
import { detectFormat } from '../parsers/detect-format.ts';
import type { Parser, ParserOptions } from '../parsers/parser.ts';
import { FORMATS, parserFor } from '../parsers/registry.ts';
import type { Envelope, InputRecord, Reject } from './envelope.ts';
import { eventId } from './ids.ts';

/**
 * Parse → normalize → enrich for one input record. Parsers are kept per stream (a file, a
 * topic-partition, a syslog peer) because Zeek TSV headers and syslog year inference carry state
 * from line to line. A stream's format comes from its hint (configured or sent along), or is
 * detected from its first line; a record whose format cannot be told is a reject, never a throw.
 */
export interface ProcessorOptions {
  normalizer: Normalizer;
  enricher: Enricher;
  /** Per-format parser settings (nginx log_format, json time field, ...). */
  parserSettings?: Record<string, Record<string, unknown>>;
  /** Streams whose parsers are kept; the least recently used is dropped beyond this. */
  maxStreams?: number;
  now?: () => number;
}

export interface ProcessOutput {
  envelopes: Envelope[];
  rejects: Reject[];
}

export interface Processor {
  /** Appends the record's envelopes and rejects to `out`. */
  process(record: InputRecord, stream: string, out: ProcessOutput): void;
}

const UNKNOWN_FORMAT = 'unknown';

/** The stream a consumed raw record belongs to: its topic-partition and key (a file, a peer). */
export function streamOf(topic: string, partition: number, key: string | null): string {
  return `${topic}\u0000${partition}\u0000${key ?? ''}`;
}

export function createProcessor(options: ProcessorOptions): Processor {
  const { normalizer, enricher } = options;
  const now = options.now ?? Date.now;
  const maxStreams = options.maxStreams ?? 10_000;
  const parsers = new Map<string, Parser>();

  // The last (stream, hint) → parser: consecutive records nearly always share them (a batch is one
  // topic-partition), which saves building a key string and a map lookup per record.
  let lastStream: string | undefined;
  let lastHint: string | undefined;
  let lastParser: Parser | undefined;

  function parserFor_(stream: string, record: InputRecord): Parser | undefined {
    if (lastParser !== undefined && stream === lastStream && record.formatHint === lastHint)
      return lastParser;
    const parser = lookupParser(stream, record);
    lastStream = stream;
    lastHint = record.formatHint;
    lastParser = parser;
    return parser;
  }

  function lookupParser(stream: string, record: InputRecord): Parser | undefined {
    const key = `${stream}\u0000${record.formatHint ?? ''}`;
    const cached = parsers.get(key);
    if (cached) return cached;
    const format = knownFormat(record.formatHint) ?? detectFormat([record.text]);
    if (!format) return undefined;
    const parserOptions: ParserOptions = { settings: options.parserSettings?.[format] };
    const logTypeHint = logTypeFromHint(record.formatHint);
    if (logTypeHint) parserOptions.logType = logTypeHint;
    const parser = parserFor(format).create(parserOptions);
    if (parsers.size >= maxStreams) parsers.delete(parsers.keys().next().value as string);
    parsers.set(key, parser);
    return parser;
  }

  return {
    process(record, stream, out) {
      if (record.tooLong) {
        out.rejects.push(
          rejectOf(record, 'line_too_long', 'cut at the source max line bytes', UNKNOWN_FORMAT),
        );
        return;
      }
      const parser = parserFor_(stream, record);
      if (!parser) {
        out.rejects.push(
          rejectOf(record, 'unknown_format', 'no parser recognises this line', UNKNOWN_FORMAT),
        );
        return;
      }
      const result = parser.parse(record);
      if (!result.ok) {
        out.rejects.push(rejectOf(record, result.reason, result.detail, parser.format));
        return;
      }
      const ingestTime = now();
      const parsed = result.records;
      for (let i = 0; i < parsed.length; i++) {
        const env = normalizer.normalize(parsed[i], eventId(record.position, i), ingestTime);
        enricher.enrich(env, normalizer.enrichmentsFor(env.source, env.log_type));
        out.envelopes.push(env);
      }
    },
  };
}

/** A format hint is `format` or `format:log_type` (e.g. `zeek-tsv:conn`, `json:firewall`). */
const KNOWN_FORMATS: ReadonlySet<string> = new Set(FORMATS);

function knownFormat(hint: string | undefined): string | undefined {
  if (!hint) return undefined;
  const format = hint.split(':', 1)[0];
  return KNOWN_FORMATS.has(format) ? format : undefined;
}

function logTypeFromHint(hint: string | undefined): string | undefined {
  const i = hint?.indexOf(':') ?? -1;
  return hint && i > 0 ? hint.slice(i + 1) : undefined;
}

function rejectOf(record: InputRecord, reason: string, detail: string | undefined, format: string): Reject {
  const reject: Reject = {
    reason,
    format,
    source: format,
    position: record.position,
    receivedAt: record.receivedAt,
    text: record.text,
    byteLength: record.byteLength,
  };
  if (detail !== undefined) reject.detail = detail;
  return reject;
}
