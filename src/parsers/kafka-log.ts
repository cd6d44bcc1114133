import type { Fields, InputRecord, ParsedRecord } from '../core/envelope.ts';
import { accept, isBlank, looksBinary, reject, SKIPPED } from './common.ts';
import type { ParseResult, Parser, ParserDefinition } from './parser.ts';

/**
 * Apache Kafka's own logs (server.log, controller.log, state-change.log; log4j/log4j2 with Kafka's
 * shipped pattern `[%d] %p %m (%c)%n`):
 * `[2026-03-14 08:00:00,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)`.
 * Fields: timestamp, level, context (the leading `[KafkaServer id=1]`, `[Partition t-0 broker=1]`),
 * message, logger (the class in parentheses at the end). The time has no zone (log4j's `%d` is
 * the broker's local time): read as UTC, like nginx's error log.
 *
 * A stack trace follows its event on the next lines (`java.io.IOException: …`, `\tat …`,
 * `Caused by: …`, `\t... 12 more`): those lines are joined into the event's `stack_trace`. So a
 * WARN/ERROR/FATAL event is held until the next event line (or `flush()` at the end of the input)
 * and delivered with it; INFO and below are delivered at once. A continuation line with no event
 * before it is an event of its own (level unknown) rather than lost.
 */

const LINE_RE =
  /^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})[,.](\d{3})\] (TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL) (.*)$/;
const LOGGER_RE = / \(([A-Za-z_$][\w$.]*)\)$/;
const CONTEXT_RE = /^\[([^\]]{1,200})\] /;
/** Longest stack trace kept (characters): a runaway trace must not grow without bound. */
const MAX_TRACE_CHARS = 64 * 1024;
const HELD_LEVELS: ReadonlySet<string> = new Set(['WARN', 'WARNING', 'ERROR', 'FATAL']);

interface Held {
  record: ParsedRecord;
  trace: string[];
  chars: number;
}

function readLine(text: string): ParsedRecord | undefined {
  const m = LINE_RE.exec(text);
  if (m === null) return undefined;
  const timeMs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]);
  if (Number.isNaN(timeMs)) return undefined;
  let message = m[9];
  const raw: Fields = {
    timestamp: `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]},${m[7]}`,
    level: m[8] === 'WARNING' ? 'WARN' : m[8],
  };
  const logger = LOGGER_RE.exec(message);
  if (logger !== null) {
    raw.logger = logger[1];
    message = message.slice(0, logger.index);
  }
  const ctx = CONTEXT_RE.exec(message);
  if (ctx !== null) {
    raw.context = ctx[1];
    message = message.slice(ctx[0].length);
  }
  raw.message = message;
  return { source: 'kafka', log_type: 'broker', raw, eventTimeMs: timeMs };
}

/** A stack-trace line: indented (`\tat …`, `\t... 3 more`), `Caused by:`, or `pkg.Exception: …`. */
function isContinuation(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c === 9 /* \t */ || c === 32) return true;
  if (text.startsWith('Caused by: ') || text.startsWith('Suppressed: ')) return true;
  // `java.io.IOException: No space left on device`, `org.apache.kafka.common.errors.X`
  return /^[a-z][\w$]*(?:\.[\w$]+)+(?:Exception|Error|Throwable)\b/.test(text);
}

class KafkaLogParser implements Parser {
  readonly format = 'kafka-log';
  private held: Held | undefined;

  parse(record: InputRecord): ParseResult {
    const text = record.text.trimEnd();
    if (isBlank(text)) return SKIPPED;
    const event = readLine(text);
    if (event === undefined) {
      if (isContinuation(text)) {
        const h = this.held;
        if (h !== undefined) {
          if (h.chars < MAX_TRACE_CHARS) {
            h.trace.push(text);
            h.chars += text.length + 1;
          }
          return SKIPPED; // kept in the held event, delivered with it
        }
        return accept('kafka', 'broker', { level: 'UNKNOWN', message: text, stack_trace: text }, undefined);
      }
      return reject(looksBinary(text) ? 'binary_data' : 'unrecognized_line');
    }
    const out: ParsedRecord[] = [];
    const done = this.release();
    if (done !== undefined) out.push(done);
    if (HELD_LEVELS.has(event.raw.level as string)) this.held = { record: event, trace: [], chars: 0 };
    else out.push(event);
    return out.length === 0 ? SKIPPED : { ok: true, records: out };
  }

  /** The end of the input: the held event, if any. */
  flush(): ParseResult {
    const done = this.release();
    return done === undefined ? SKIPPED : { ok: true, records: [done] };
  }

  private release(): ParsedRecord | undefined {
    const h = this.held;
    if (h === undefined) return undefined;
    this.held = undefined;
    if (h.trace.length > 0) h.record.raw.stack_trace = h.trace.join('\n');
    return h.record;
  }
}

export const kafkaLog: ParserDefinition = {
  format: 'kafka-log',
  source: 'kafka',
  summary: 'Apache Kafka broker logs (log4j `[time] LEVEL message (logger)`), stack traces joined',
  detect(sampleLines) {
    let tried = 0;
    let hits = 0;
    for (const line of sampleLines) {
      if (isBlank(line) || isContinuation(line)) continue;
      if (++tried > 20) break;
      if (LINE_RE.test(line)) hits++;
    }
    return tried === 0 ? 0 : (0.9 * hits) / Math.min(tried, 20);
  },
  create() {
    return new KafkaLogParser();
  },
};
