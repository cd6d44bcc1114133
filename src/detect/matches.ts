import type { CorrelationMatch } from './correlate/correlator.ts';

/**
 * What the stateless half of detection (the process role) hands the stateful half (the correlate
 * role) over the `matches` topic, re-keyed by `rule_id + '|' + group key` the way Kafka Streams
 * repartitions: every alert group and every correlation window then lives on exactly one partition,
 * so one correlate member owns it (ARCHITECTURE.md "Two ways to run"). Small and JSON-serializable.
 *
 * `origin` is the input partition the event was read from (`topic:partition`) and `clock` that
 * partition's event clock when it was read (the largest event time seen there so far, matching or
 * not). The correlate side keeps one clock per origin and takes the minimum (watermark.ts), so the
 * re-keying shuffle does not mix a replaying partition's old event times with a live one's.
 */
interface MatchBase {
  origin: string;
  /** Epoch ms. Absent on derived messages (a forwarded correlation hit carries no clock reading). */
  clock?: number;
  /** The event's ingest time, for the detection latency histogram. */
  ingest_time?: number;
  /**
   * Where the match stands in its origin partition: the input record's offset × MATCH_SEQ_SPAN +
   * the match's ordinal among that record's matches. A replay of the input (a process member
   * restarted before its commit) re-sends the same seq, and the correlate side counts a message
   * whose seq is not above the last one of its origin (per matches partition) once: a match
   * delivered twice counts once. Absent on derived messages and from producers that do not set it.
   */
  seq?: number;
}

/** Matches of one input record that get a seq; beyond it a record's matches are not deduplicated. */
export const MATCH_SEQ_SPAN = 1024;

/** A single-event rule that alerts on its own: what the alert builder needs of the event. */
export interface EventMatchMessage extends MatchBase {
  type: 'event';
  rule_id: string;
  event_id: string;
  event_time: number;
  /** The single-event group fields present on the event (alerts.ts SINGLE_EVENT_GROUP_FIELDS). */
  group: Record<string, string>;
  source: string;
  log_type: string;
}

/** A match for one correlation (from an event, or a child correlation's hit when `derived`). */
export interface CorrelationMatchMessage extends MatchBase {
  type: 'correlation';
  match: CorrelationMatch;
  /** A child correlation's hit forwarded to its parent: never late (in-process chains agree). */
  derived?: true;
}

export type MatchMessage = EventMatchMessage | CorrelationMatchMessage;

/** Group key of a single-event alert: the same text the alert builder keys suppression by. */
export function eventGroupKey(group: Record<string, string>): string {
  let key = '';
  for (const f in group) key = key === '' ? `${f}=${group[f]}` : `${key}\u0000${f}=${group[f]}`;
  return key;
}

/** The bus key: rule (or correlation) id + group key, so one group's state lives on one partition. */
export function messageKey(m: MatchMessage): string {
  if (m.type === 'event') return `${m.rule_id}|${eventGroupKey(m.group)}`;
  return `${m.match.correlation_id}|${m.match.group.join('\u0000')}`;
}

/**
 * Shape check for what arrives on the matches topic (a foreign producer, an old format): anything
 * else is counted as a bad record by the correlate role, never an exception in the correlators.
 */
export function isMatchMessage(v: unknown): v is MatchMessage {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  if (typeof m.origin !== 'string') return false;
  if (m.type === 'event') {
    return (
      typeof m.rule_id === 'string' &&
      typeof m.event_id === 'string' &&
      typeof m.event_time === 'number' &&
      typeof m.group === 'object' &&
      m.group !== null
    );
  }
  if (m.type !== 'correlation' || typeof m.match !== 'object' || m.match === null) return false;
  const c = m.match as Record<string, unknown>;
  return (
    typeof c.correlation_id === 'string' &&
    typeof c.rule_id === 'string' &&
    Array.isArray(c.group) &&
    typeof c.event_time === 'number' &&
    typeof c.event_id === 'string'
  );
}
