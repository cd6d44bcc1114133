/**
 * The event envelope (ARCHITECTURE.md, "The event envelope"): three layers.
 * `raw` keeps every input field as parsed, `normalized` holds canonical fields from docs/schema.md,
 * `enriched` holds derived fields. Layers are plain objects so they serialize without copies.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Fields = Record<string, unknown>;

export interface Envelope {
  /** Deterministic id derived from the input's identity (see ids.ts). */
  id: string;
  /** The log family: zeek, suricata, sshd, auth, nginx, app, threat, json. */
  source: string;
  /** The log type within the family: conn, dns, alert, flow, access, auth, ... */
  log_type: string;
  raw: Fields;
  normalized: Fields;
  enriched: Fields;
}

/** Where a record came from: used for deterministic ids, DLQ positions and checkpoints. */
export type InputPosition =
  | { kind: 'file'; path: string; fileId: string; offset: number }
  | { kind: 'kafka'; topic: string; partition: number; offset: string }
  | { kind: 'stream'; name: string; sequence: number };

/** One line (or message) of input before parsing. */
export interface InputRecord {
  /** The raw bytes as text (UTF-8 decoded; invalid sequences kept as U+FFFD). */
  text: string;
  /** Length of the original bytes, before any truncation. */
  byteLength: number;
  position: InputPosition;
  /** Hint from the source (e.g. a Kafka topic or file name) about the format. */
  formatHint?: string;
  receivedAt: number;
  /**
   * Set by a source that cut the record at its size limit (`max_line_bytes`): `text` holds only the
   * head and `byteLength` the full length. Never parsed: it is rejected with reason `line_too_long`.
   */
  tooLong?: boolean;
}

/** A parsed record: the parser's output, before normalization. */
export interface ParsedRecord {
  source: string;
  log_type: string;
  raw: Fields;
  /** Event time in epoch milliseconds if the parser found one. */
  eventTimeMs?: number;
}

/** A rejected input: never an exception, always a reason. */
export interface Reject {
  reason: string;
  detail?: string;
  format: string;
  source: string;
  position: InputPosition;
  receivedAt: number;
  /** The raw text truncated to the configured limit. */
  text: string;
  byteLength: number;
}

/**
 * Event time (epoch ms) of an envelope: normalized.event_time, else normalized.ingest_time, else
 * `fallback` (a record without a usable time still has to land in some window or partition).
 */
export function eventTimeOf(env: Envelope, fallback: number): number {
  const t = env.normalized.event_time;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  const i = env.normalized.ingest_time;
  return typeof i === 'number' && Number.isFinite(i) ? i : fallback;
}
