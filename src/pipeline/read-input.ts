import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Envelope, InputPosition, InputRecord, Reject } from '../core/envelope.ts';
import type { Enricher } from '../enrich/enricher.ts';
import type { Normalizer } from '../normalize/normalize.ts';
import { fileIdFor, formatHintFor } from '../sources/file.ts';
import { type FramedLine, LineFramer } from '../sources/lines.ts';
import {
  createProcessor,
  emptyOutput,
  type ProcessOutput,
  type Processor,
  type StreamDeclaration,
} from './processor.ts';

/**
 * Reading a whole input — a file or stdin — through the one line framer (sources/lines.ts) and the
 * one processor (processor.ts): what `parse`, `detect`, `rules test` and the benches read with.
 * Positions are the ones the file and stdin sources give (file identity + byte offset; stdin byte
 * offset), so a file parsed here gets the ids `socstream run` gives it.
 */

/** The default cut for one line (config `parsers.max_line_bytes`). */
const DEFAULT_MAX_LINE_BYTES = 1_048_576;

/** Counts of one read (or several), by log type and reject reason. */
export class ReadStats {
  lines = 0;
  accepted = 0;
  skipped = 0;
  rejected = 0;
  readonly byLogType = new Map<string, number>();
  readonly byReason = new Map<string, number>();
  readonly formats = new Set<string>();

  add(lines: number, out: ProcessOutput): void {
    this.lines += lines;
    this.skipped += out.skipped;
    this.accepted += out.envelopes.length;
    this.rejected += out.rejects.length;
    for (const env of out.envelopes)
      this.byLogType.set(env.log_type, (this.byLogType.get(env.log_type) ?? 0) + 1);
    for (const r of out.rejects) this.byReason.set(r.reason, (this.byReason.get(r.reason) ?? 0) + 1);
  }

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

export interface InputSpec {
  /** The stream name the processor keys its parser by. */
  stream: string;
  /** Where a framed line sits in the input (its id comes from it). */
  positionOf(line: FramedLine): InputPosition;
  /** `format` or `format:log_type`; detected from the first lines when absent. */
  format?: string;
  referenceTimeMs?: number;
}

export interface ReadOptions {
  maxLineBytes?: number;
  now?: () => number;
}

/**
 * Reads `input` to its end: framed lines → records → the processor, one output per chunk of input.
 * Records carry the spec's format as their hint, as the file source's records do; without one the
 * processor tells the stream's format from its first recognisable line, as it does for every
 * stream of `socstream run`.
 */
export async function* processInput(
  input: AsyncIterable<Buffer> | Readable,
  spec: InputSpec,
  processor: Processor,
  stats: ReadStats,
  options: ReadOptions = {},
): AsyncGenerator<ProcessOutput> {
  const now = options.now ?? Date.now;
  const framer = new LineFramer(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  if (spec.referenceTimeMs !== undefined)
    processor.declare(spec.stream, { referenceTimeMs: spec.referenceTimeMs });
  const lines: FramedLine[] = [];

  let last: InputRecord | undefined;

  function hand(framed: readonly FramedLine[]): ProcessOutput {
    const out = emptyOutput();
    const receivedAt = now();
    for (const line of framed) {
      const record = recordOf(line, spec.positionOf(line), receivedAt);
      if (spec.format !== undefined) record.formatHint = spec.format;
      processor.process(record, spec.stream, out);
      last = record;
    }
    // The end of the input: what the parser still holds (lines that wait for their continuation).
    if (framed.length === 0 && last !== undefined) processor.end(spec.stream, spec.format, last, out);
    stats.add(framed.length, out);
    for (const format of processor.formatsOf(spec.stream, spec.format)) stats.formats.add(format);
    return out;
  }

  for await (const chunk of input as AsyncIterable<Buffer>) {
    framer.push(chunk, lines);
    if (lines.length > 0) yield hand(lines.splice(0));
  }
  framer.end(lines);
  if (lines.length > 0) yield hand(lines.splice(0));
  const held = hand([]);
  if (held.envelopes.length > 0) yield held;
}

function recordOf(line: FramedLine, position: InputPosition, receivedAt: number): InputRecord {
  const record: InputRecord = { text: line.text, byteLength: line.byteLength, position, receivedAt };
  if (line.tooLong) record.tooLong = true;
  return record;
}

/** A file as the file source reads it: its identity and offsets, its name's log-type hint, its mtime. */
export function fileInput(
  path: string,
  format?: string,
  referenceTimeMs?: number,
): { spec: InputSpec; open(): Readable } {
  const absolute = resolve(path);
  const st = statSync(absolute);
  const fileId = fileIdFor(st);
  return {
    spec: {
      stream: `file:${absolute}`,
      positionOf: (line) => ({ kind: 'file', path: absolute, fileId, offset: line.offset }),
      format: formatHintFor(format, absolute) ?? format,
      referenceTimeMs: referenceTimeMs ?? st.mtimeMs,
    },
    open: () => createReadStream(absolute, { highWaterMark: 256 * 1024 }),
  };
}

/** Standard input as the stdin source reads it: positions are byte offsets in the stream `name`. */
export function stdinInput(format?: string, name = 'stdin'): InputSpec {
  return {
    stream: `stream:${name}`,
    positionOf: (line) => ({ kind: 'stream', name, sequence: line.offset }),
    format,
  };
}

/** Reads a whole file into envelopes and rejects (small inputs: fixtures, `rules test`). */
export async function readFileWhole(
  path: string,
  processor: Processor,
  options: { format?: string; referenceTimeMs?: number } & ReadOptions = {},
): Promise<{ envelopes: Envelope[]; rejects: Reject[]; stats: ReadStats }> {
  const file = fileInput(path, options.format, options.referenceTimeMs);
  const envelopes: Envelope[] = [];
  const rejects: Reject[] = [];
  const stats = new ReadStats();
  for await (const out of processInput(file.open(), file.spec, processor, stats, options)) {
    envelopes.push(...out.envelopes);
    rejects.push(...out.rejects);
  }
  return { envelopes, rejects, stats };
}

/** Counts of an envelope reader (`detect`, `rules test`). */
export interface ReaderCounts {
  lines: number;
  events: number;
  rejects: number;
  skipped: number;
}

/** Lines held in memory → envelopes, through the processor. Ids follow the line's byte offset. */
export interface EnvelopeReader {
  readonly counts: ReaderCounts;
  read(lines: readonly string[]): Envelope[];
}

/**
 * An in-memory reader over the processor, for lines already split (rule fixtures, tests, benches).
 * Positions name the input by `name` alone (no file identity): the same lines always get the
 * same ids. Without a format it follows the rule of every reader (processor.ts): the format of
 * the first recognisable line, a line of another format detected on its own, unknown lines
 * rejected `unknown_format`.
 */
export function createEnvelopeReader(options: {
  name: string;
  normalizer: Normalizer;
  enricher?: Enricher;
  parserSettings?: Record<string, Record<string, unknown>>;
  format?: string;
  /** Receive and ingest time of every line (fixed, so the envelopes are reproducible). */
  receivedAt?: number;
}): EnvelopeReader {
  const counts: ReaderCounts = { lines: 0, events: 0, rejects: 0, skipped: 0 };
  const receivedAt = options.receivedAt ?? Date.now();
  const processor = createProcessor({ ...options, now: () => receivedAt });
  const stream = `lines:${options.name}`;
  const declaration: StreamDeclaration = { referenceTimeMs: receivedAt };
  if (options.format !== undefined) declaration.format = options.format;
  processor.declare(stream, declaration);
  let byteOffset = 0;
  return {
    counts,
    read(lines) {
      const out = emptyOutput();
      for (const text of lines) {
        counts.lines++;
        const byteLength = Buffer.byteLength(text);
        const position: InputPosition = {
          kind: 'file',
          path: options.name,
          fileId: options.name,
          offset: byteOffset,
        };
        byteOffset += byteLength + 1;
        processor.process({ text, byteLength, position, receivedAt }, stream, out);
      }
      counts.events += out.envelopes.length;
      counts.rejects += out.rejects.length;
      counts.skipped += out.skipped;
      return out.envelopes;
    },
  };
}

/** A small file's lines, framed as the sources frame them (rule fixtures). */
export function readLines(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): string[] {
  const framer = new LineFramer(maxLineBytes);
  const lines: FramedLine[] = [];
  framer.push(readFileSync(path), lines);
  framer.end(lines);
  return lines.map((l) => l.text);
}
