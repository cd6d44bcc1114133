import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { type Config, enrichSchema } from '../config/schema.ts';
import type { Envelope, InputPosition, InputRecord, ParsedRecord } from '../core/envelope.ts';
import { ConfigError, SourceUnavailableError, UsageError } from '../core/errors.ts';
import { eventId } from '../core/ids.ts';
import { createLogger } from '../core/logger.ts';
import { createEnricher, type Enricher } from '../enrich/enricher.ts';
import { createNormalizer } from '../normalize/normalize.ts';
import { detectFormat } from '../parsers/detect-format.ts';
import type { Parser, ParserDefinition } from '../parsers/parser.ts';
import { parserFor, validateParserSettings } from '../parsers/registry.ts';
import { action } from './run-action.ts';

/**
 * `socstream parse [--format F] [--config C] [--stats] [FILE...|-]`: envelopes as NDJSON on stdout,
 * rejects as JSON lines on stderr (they are data: exit 0), `--stats` adds one JSON line of counts
 * per log type and per reject reason. Files are read as a stream of byte chunks, split on `\n`
 * with exact byte offsets (the id is derived from file identity + offset, like the file source);
 * a line longer than maxLineBytes is rejected without being buffered whole.
 */

/** How many leading lines format detection looks at. */
export const DETECT_SAMPLE_LINES = 20;
/** Reject text kept on stderr. */
export const REJECT_TEXT_CHARS = 512;

/**
 * The seam between parsing and the rest of the pipeline: a parsed record becomes an envelope.
 * `normalized`/`enriched` stay empty here; `parse` accepts a `process` hook that replaces this
 * (the normalizer + enricher) without touching the reading and counting below.
 */
export function toEnvelope(parsed: ParsedRecord, id: string, _ingestTimeMs: number): Envelope {
  return {
    id,
    source: parsed.source,
    log_type: parsed.log_type,
    raw: parsed.raw,
    normalized: {},
    enriched: {},
  };
}

export type EnvelopeHook = (parsed: ParsedRecord, id: string, ingestTimeMs: number) => Envelope;

/** The real hook: normalize with the shipped + configured mappings, then enrich (src/normalize, src/enrich). */
export function createNormalizeEnrichHook(config: Config | undefined): {
  hook: EnvelopeHook;
  enricher: Enricher;
} {
  const normalizer = createNormalizer({ extraMappings: config?.mappings });
  // Rejects are the stderr NDJSON; enrichment logs only warnings (an IOC list that failed to reload).
  const logger = createLogger({ level: 'warn', pretty: false });
  const enricher = createEnricher(config?.enrich ?? enrichSchema.parse({}), { logger });
  const hook: EnvelopeHook = (parsed, id, ingestTimeMs) => {
    const env = normalizer.normalize(parsed, id, ingestTimeMs);
    enricher.enrich(env, normalizer.enrichmentsFor(env.source, env.log_type));
    return env;
  };
  return { hook, enricher };
}

export interface RejectLine {
  reason: string;
  detail?: string;
  format: string;
  source: string;
  position: InputPosition;
  received_at: number;
  text: string;
  original_length: number;
  truncated: boolean;
}

export interface ParseSink {
  envelope(env: Envelope): void;
  reject(rej: RejectLine): void;
  /** Awaited after each input chunk: resolves when the outputs can take more (backpressure). */
  drain?(): Promise<void>;
}

export class ParseStats {
  lines = 0;
  accepted = 0;
  skipped = 0;
  rejected = 0;
  readonly byLogType = new Map<string, number>();
  readonly byReason = new Map<string, number>();

  toJSON(): Record<string, unknown> {
    return {
      lines: this.lines,
      accepted: this.accepted,
      skipped: this.skipped,
      rejected: this.rejected,
      by_log_type: Object.fromEntries([...this.byLogType].sort()),
      by_reason: Object.fromEntries([...this.byReason].sort()),
    };
  }
}

export interface ParseOptions {
  /** Forced format; detected per input from its first lines when absent. */
  format?: string;
  /** Per-format settings (config `parsers.settings`). */
  settings?: Record<string, Record<string, unknown>>;
  maxLineBytes?: number;
  /** Reference time for formats without a year; parseFile uses the file's mtime when absent. */
  referenceTimeMs?: number;
  process?: EnvelopeHook;
  now?: () => number;
}

/** One framed line: its text (UTF-8, invalid bytes as U+FFFD), byte length, offset and number. */
interface Line {
  text: string;
  byteLength: number;
  offset: number;
  lineNumber: number;
  tooLong: boolean;
}

/**
 * Splits a byte stream into lines without holding more than maxLineBytes of any line.
 * A trailing `\r` is dropped (CRLF files); a last line without `\n` is still a line.
 */
export async function forEachLine(
  input: Readable,
  maxLineBytes: number,
  onLine: (line: Line) => void,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineBytes = 0; // including bytes dropped from an over-long line
  let tooLong = false;
  let offset = 0;
  let lineNumber = 0;
  const emit = (tail: Buffer | undefined) => {
    let buf =
      pendingBytes === 0 && tail !== undefined ? tail : Buffer.concat(tail ? [...pending, tail] : pending);
    if (!tooLong && buf.length > 0 && buf[buf.length - 1] === 13) buf = buf.subarray(0, buf.length - 1);
    lineNumber++;
    onLine({ text: buf.toString('utf8'), byteLength: lineBytes, offset, lineNumber, tooLong });
    offset += lineBytes + 1;
    pending = [];
    pendingBytes = 0;
    lineBytes = 0;
    tooLong = false;
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      lineBytes += piece.length;
      if (!tooLong) {
        if (pendingBytes + piece.length > maxLineBytes) {
          // Keep only a prefix for the reject record; drop the rest until the newline.
          const room = Math.max(0, REJECT_TEXT_CHARS - pendingBytes);
          if (room > 0) pending.push(Buffer.from(piece.subarray(0, room)));
          pendingBytes += Math.min(room, piece.length);
          tooLong = true;
        } else if (nl === -1) {
          pending.push(Buffer.from(piece)); // copy: the chunk is reused by the stream
          pendingBytes += piece.length;
        }
      }
      if (nl === -1) break;
      emit(tooLong ? undefined : piece);
      start = nl + 1;
    }
    if (afterChunk !== undefined) await afterChunk(); // output backpressure, once per chunk
  }
  if (lineBytes > 0 || pendingBytes > 0) emit(undefined);
}

function truncate(text: string): { text: string; truncated: boolean } {
  return text.length > REJECT_TEXT_CHARS
    ? { text: text.slice(0, REJECT_TEXT_CHARS), truncated: true }
    : { text, truncated: false };
}

/** Parses one input (a file or stdin) through detection, the parser and the envelope hook. */
export async function parseInput(
  input: Readable,
  positionOf: (line: Line) => InputPosition,
  options: ParseOptions,
  sink: ParseSink,
  stats: ParseStats,
): Promise<void> {
  const now = options.now ?? Date.now;
  const toEnv = options.process ?? toEnvelope;
  const maxLineBytes = options.maxLineBytes ?? 1_048_576;
  let definition: ParserDefinition | undefined = options.format ? parserFor(options.format) : undefined;
  let parser: Parser | undefined;
  let format = options.format ?? 'unknown';
  let sample: Line[] | undefined = definition ? undefined : [];

  const start = (def: ParserDefinition | undefined) => {
    definition = def;
    if (def === undefined) return;
    format = def.format;
    let settings = options.settings?.[def.format];
    if (def.settings !== undefined) {
      const checked = def.settings.safeParse(settings ?? {});
      if (!checked.success) {
        throw new ConfigError(
          `parsers.settings.${def.format}: ${checked.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
      settings = checked.data as Record<string, unknown>;
    }
    parser = def.create({ settings, referenceTimeMs: options.referenceTimeMs });
  };

  const rejectLine = (line: Line, reason: string, detail: string | undefined, receivedAt: number) => {
    stats.rejected++;
    stats.byReason.set(reason, (stats.byReason.get(reason) ?? 0) + 1);
    const t = truncate(line.text);
    const rej: RejectLine = {
      reason,
      format,
      source: definition?.source ?? 'unknown',
      position: positionOf(line),
      received_at: receivedAt,
      text: t.text,
      original_length: line.byteLength,
      truncated: t.truncated || line.tooLong,
    };
    if (detail !== undefined) rej.detail = detail;
    sink.reject(rej);
  };

  let lastPosition: InputPosition | undefined;
  const handle = (line: Line) => {
    stats.lines++;
    const receivedAt = now();
    if (line.tooLong) {
      rejectLine(line, 'line_too_long', `${line.byteLength} bytes > ${maxLineBytes}`, receivedAt);
      return;
    }
    if (parser === undefined) {
      if (line.text.trim() === '') {
        stats.skipped++;
        return;
      }
      rejectLine(line, 'unknown_format', 'no format detected from the first lines; use --format', receivedAt);
      return;
    }
    const position = positionOf(line);
    lastPosition = position;
    const record: InputRecord = { text: line.text, byteLength: line.byteLength, position, receivedAt };
    const result = parser.parse(record);
    if (!result.ok) {
      rejectLine(line, result.reason, result.detail, receivedAt);
      return;
    }
    if (result.records.length === 0) {
      stats.skipped++;
      return;
    }
    for (let i = 0; i < result.records.length; i++) {
      const parsed = result.records[i];
      stats.accepted++;
      stats.byLogType.set(parsed.log_type, (stats.byLogType.get(parsed.log_type) ?? 0) + 1);
      sink.envelope(toEnv(parsed, eventId(position, i), receivedAt));
    }
  };

  if (definition !== undefined) start(definition);
  await forEachLine(
    input,
    maxLineBytes,
    (line) => {
      if (sample === undefined) {
        handle(line);
        return;
      }
      sample.push(line);
      if (sample.length < DETECT_SAMPLE_LINES) return;
      start(detectFromSample(sample));
      const buffered = sample;
      sample = undefined;
      for (const l of buffered) handle(l);
    },
    sink.drain,
  );
  if (sample !== undefined) {
    start(detectFromSample(sample));
    for (const l of sample) handle(l);
  }
  // Records a parser still holds at the end (kafka-log: an ERROR whose stack trace ran to the end).
  const held = parser?.flush?.();
  if (held?.ok === true && lastPosition !== undefined) {
    for (let i = 0; i < held.records.length; i++) {
      const parsed = held.records[i];
      stats.accepted++;
      stats.byLogType.set(parsed.log_type, (stats.byLogType.get(parsed.log_type) ?? 0) + 1);
      sink.envelope(toEnv(parsed, eventId(lastPosition, FLUSH_INDEX + i), now()));
    }
  }
}

/** Record index of what a parser flushes at the end: after any index the last line itself used. */
const FLUSH_INDEX = 1_000_000;

function detectFromSample(sample: readonly Line[]): ParserDefinition | undefined {
  const format = detectFormat(sample.filter((l) => !l.tooLong).map((l) => l.text));
  return format === undefined ? undefined : parserFor(format);
}

/** Parses a file: positions are {file, dev:ino, byte offset}, the reference time is its mtime. */
export async function parseFile(path: string, options: ParseOptions, sink: ParseSink, stats: ParseStats) {
  const st = statSync(path);
  const fileId = `${st.dev}:${st.ino}`;
  const withReference = { ...options, referenceTimeMs: options.referenceTimeMs ?? st.mtimeMs };
  await parseInput(
    createReadStream(path, { highWaterMark: 256 * 1024 }),
    (line) => ({ kind: 'file', path, fileId, offset: line.offset }),
    withReference,
    sink,
    stats,
  );
}

/** Writes NDJSON with backpressure: lines are batched into ~64 KB writes. */
/** The reader of our output went away (`socstream parse big.log | head`): stop quietly, exit 0. */
class OutputClosed extends Error {}

/**
 * Writes NDJSON with backpressure: lines are batched into ~64 KB writes, and a full pipe is
 * waited on. A closed pipe (EPIPE) ends the run like any Unix filter instead of crashing.
 */
class NdjsonWriter {
  private buffer = '';
  private closed = false;
  private readonly out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
    out.on('error', () => {
      this.closed = true;
    });
  }
  line(value: unknown): void {
    this.buffer += `${JSON.stringify(value)}\n`;
  }
  get size(): number {
    return this.buffer.length;
  }
  async flush(): Promise<void> {
    if (this.closed) throw new OutputClosed();
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.out.off('error', done);
          resolve();
        };
        this.out.once('drain', done);
        this.out.once('close', done);
        this.out.once('error', done);
      });
    }
    if (this.closed) throw new OutputClosed();
  }
}

interface CliOptions {
  format?: string;
  config?: string;
  stats?: boolean;
}

export async function runParse(files: string[], opts: CliOptions, process_ = process): Promise<number> {
  if (opts.format !== undefined) parserFor(opts.format); // unknown format → UsageError (exit 2)
  const config = opts.config === undefined ? undefined : loadConfig(opts.config);
  // Usage and config errors surface before anything starts (exit 2, nothing left running).
  const settings = config && validateParserSettings(config.parsers.settings, opts.config ?? '(config)');
  const inputs = files.length === 0 ? ['-'] : files;
  for (const input of inputs) {
    if (input === '-') continue;
    let isDirectory = false;
    try {
      isDirectory = statSync(input).isDirectory();
    } catch (e) {
      throw new UsageError(`cannot read ${input}: ${(e as NodeJS.ErrnoException).code ?? 'no such file'}`);
    }
    if (isDirectory)
      throw new UsageError(`cannot read ${input}: a directory (give the files, e.g. ${input}/*.log)`);
  }
  const out = new NdjsonWriter(process_.stdout);
  const err = new NdjsonWriter(process_.stderr);
  const stats = new ParseStats();
  const { hook, enricher } = createNormalizeEnrichHook(config);
  await enricher.start();
  const options: ParseOptions = {
    format: opts.format,
    settings,
    maxLineBytes: config?.parsers.max_line_bytes,
    process: hook,
  };
  const sink: ParseSink = {
    envelope(env) {
      out.line(env);
    },
    reject(rej) {
      err.line(rej);
    },
    async drain() {
      if (out.size > 65_536) await out.flush();
      if (err.size > 65_536) await err.flush();
    },
  };
  try {
    for (const input of inputs) {
      if (input === '-') {
        await parseInput(
          process_.stdin,
          (line) => ({ kind: 'stream', name: 'stdin', sequence: line.lineNumber }),
          options,
          sink,
          stats,
        );
      } else {
        try {
          await parseFile(input, options, sink, stats);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // A read error (EACCES, EIO) is the input's, not a bug: one line, exit 1.
          if (typeof code === 'string' && code.startsWith('E')) {
            throw new SourceUnavailableError(`cannot read ${input}: ${code}`, { cause: e });
          }
          throw e;
        }
      }
      await out.flush();
      await err.flush();
    }
    if (opts.stats) err.line({ stats: stats.toJSON() });
    await out.flush();
    await err.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  } finally {
    await enricher.stop();
  }
  return 0;
}

export function register(program: Command): void {
  program
    .command('parse')
    .description('Parse log files (or stdin) into envelopes: NDJSON on stdout, rejects as JSON on stderr')
    .option('-f, --format <format>', 'input format (default: detected per file from its first lines)')
    .option('-c, --config <file>', 'socstream.yaml: parsers.settings and parsers.max_line_bytes')
    .option('--stats', 'print counts per log type and reject reason on stderr (one JSON line)')
    .argument('[files...]', 'files to parse; - or nothing reads stdin')
    .action(action(async (files: string[], opts: CliOptions) => runParse(files, opts)));
}
