import type { Fields, InputRecord, ParsedRecord } from '../core/envelope.ts';
import { isBlank, isoToEpochMicros, reject, SKIPPED } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';

/**
 * Container log wrappers around any format (the observability seed tails them with Fluent Bit):
 * - Docker's json-file driver: `{"log":"<line>\n","stream":"stdout","time":"2026-03-14T08:00:00.123456789Z"}`;
 *   a line longer than 16 KiB is split into entries without the final `\n`, joined here;
 * - the Kubernetes CRI format (containerd, CRI-O): `2026-03-14T08:00:00.123456789Z stdout F <line>`,
 *   `P` marking a partial line continued by the next entry of the same stream.
 * The inner line is parsed by its own format's parser (sshd, nginx, app-json, suricata-eve, …),
 * found from the line itself and kept while it keeps accepting lines (a container may write several
 * formats: a line the current parser rejects is tried against the others). The record keeps the
 * container metadata in raw (`container_stream`, `container_time`, `container_format`) and takes
 * the container's time when the inner line has none.
 */

interface Unwrapped {
  line: string;
  stream: string;
  time: string;
  /** The line continues in the next entry of this stream. */
  partial: boolean;
  wrapper: 'docker' | 'cri';
}

// RFC 3339 time, stream, tag (F full, P partial; further tags may follow after ':'), message.
const CRI_RE = /^(\d{4}-\d{2}-\d{2}T\S+) (stdout|stderr) ([FP])(?::\S*)? ?(.*)$/;
/** Longest joined line kept (a runaway partial sequence must not grow without bound). */
const MAX_JOINED_CHARS = 1 << 20;

export function unwrapContainerLine(text: string): Unwrapped | undefined {
  const c = text.charCodeAt(0);
  if (c === 123 /* { */) {
    if (!text.startsWith('{"log":')) return undefined;
    let o: Fields;
    try {
      o = JSON.parse(text) as Fields;
    } catch {
      return undefined;
    }
    if (typeof o.log !== 'string' || typeof o.stream !== 'string') return undefined;
    const log = o.log;
    const partial = !log.endsWith('\n');
    const line = partial ? log : log.slice(0, log.endsWith('\r\n') ? -2 : -1);
    return {
      line,
      stream: o.stream,
      time: typeof o.time === 'string' ? o.time : '',
      partial,
      wrapper: 'docker',
    };
  }
  if (c >= 48 && c <= 57) {
    const m = CRI_RE.exec(text);
    if (m === null) return undefined;
    return { line: m[4], stream: m[2], time: m[1], partial: m[3] === 'P', wrapper: 'cri' };
  }
  return undefined;
}

function containerTimeMs(time: string): number | undefined {
  if (time === '') return undefined;
  // Docker and CRI write nanoseconds; isoToEpochMicros reads any fraction length.
  const us = isoToEpochMicros(time);
  return us === undefined ? undefined : Math.floor(us / 1000);
}

class ContainerParser implements Parser {
  readonly format = 'container';
  private readonly inner: readonly ParserDefinition[];
  private readonly options: ParserOptions;
  private readonly parsers = new Map<string, Parser>();
  private current: Parser | undefined;
  /** Partial lines per stream, waiting for their final piece. */
  private readonly pending = new Map<string, string>();

  constructor(inner: readonly ParserDefinition[], options: ParserOptions) {
    this.inner = inner;
    // The container's time is the reference for formats without a year (RFC 3164 syslog).
    const { referenceTimeMs: _ignored, ...rest } = options;
    this.options = rest;
  }

  parse(record: InputRecord): ParseResult {
    if (isBlank(record.text)) return SKIPPED;
    const u = unwrapContainerLine(record.text);
    if (u === undefined) return reject('unrecognized_line', 'not a Docker json-file or CRI container line');
    const key = u.stream;
    const before = this.pending.get(key);
    const line = before === undefined ? u.line : before + u.line;
    if (u.partial && line.length < MAX_JOINED_CHARS) {
      this.pending.set(key, line);
      return SKIPPED; // its text is kept and delivered with the final piece
    }
    if (before !== undefined) this.pending.delete(key);
    if (isBlank(line)) return SKIPPED;
    const timeMs = containerTimeMs(u.time);
    const innerRecord: InputRecord = {
      ...record,
      text: line,
      byteLength: Buffer.byteLength(line),
      receivedAt: timeMs ?? record.receivedAt,
    };
    const result = this.parseInner(innerRecord);
    if (!result.ok) return result;
    const out: ParsedRecord[] = [];
    for (const r of result.records) {
      const raw = r.raw;
      raw.container_stream = u.stream;
      if (u.time !== '') raw.container_time = u.time;
      raw.container_format = u.wrapper;
      out.push(r.eventTimeMs === undefined && timeMs !== undefined ? { ...r, eventTimeMs: timeMs } : r);
    }
    return { ok: true, records: out };
  }

  /** The current inner parser, else the format that claims this line (and it becomes current). */
  private parseInner(record: InputRecord): ParseResult {
    let first: ParseResult | undefined;
    if (this.current !== undefined) {
      first = this.current.parse(record);
      if (first.ok) return first;
    }
    let best: ParserDefinition | undefined;
    let bestScore = 0.3;
    for (const def of this.inner) {
      const score = def.detect([record.text]);
      if (score > bestScore) {
        best = def;
        bestScore = score;
      }
    }
    if (best === undefined)
      return first ?? reject('unknown_format', 'no format recognises the container line');
    let parser = this.parsers.get(best.format);
    if (parser === undefined) {
      parser = best.create(this.options);
      this.parsers.set(best.format, parser);
    }
    if (parser === this.current) return first ?? parser.parse(record);
    const result = parser.parse(record);
    if (result.ok) this.current = parser;
    return result;
  }
}

/** The container format, over the given inner formats (the registry passes its own list). */
export function containerDefinition(inner: readonly ParserDefinition[]): ParserDefinition {
  return {
    format: 'container',
    // Records carry their inner format's family (sshd, nginx, …); this names the wrapper's rejects.
    source: 'container',
    summary: 'Docker json-file and Kubernetes CRI container lines around any format (inner format per line)',
    detect(sampleLines) {
      let tried = 0;
      let hits = 0;
      for (const line of sampleLines) {
        if (isBlank(line)) continue;
        if (++tried > 20) break;
        if (unwrapContainerLine(line) !== undefined) hits++;
      }
      return tried === 0 ? 0 : (0.97 * hits) / Math.min(tried, 20);
    },
    // Docker's json-file wrapper (CRI lines are not JSON).
    claims: (o) => typeof o.log === 'string' && typeof o.stream === 'string',
    create(options = {}) {
      return new ContainerParser(inner, options);
    },
  };
}
