import { partitionForKey } from '../bus/partitioner.ts';
import type { BusRecord, ConsumedRecord } from '../core/bus.ts';
import type { Envelope, InputPosition, InputRecord } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { type MatchMessage, messageKey } from '../detect/matches.ts';

/** Headers of a raw record published by the ingest role: where the line came from, its format. */
export const HEADER_POSITION = 'socstream-position';
export const HEADER_FORMAT = 'socstream-format';
export const HEADER_RECEIVED = 'socstream-received-at';
export const HEADER_BYTES = 'socstream-byte-length';

/** How envelopes, alerts and raw lines travel on the bus: JSON values, UTF-8. */
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Buffer.from rather than TextEncoder.encode: small strings are copied into Node's shared 8 KiB
 * pool instead of a fresh ArrayBuffer each (0.15 vs 0.53 µs per 1.1 KB envelope, min of 9 runs).
 */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The record's object: as published when it crossed the in-process bus, else its JSON value decoded. */
export function decodeJson<T>(record: { value: Uint8Array; decoded?: unknown }): T {
  if (record.decoded !== undefined) return record.decoded as T;
  return JSON.parse(decoder.decode(record.value)) as T;
}

/**
 * A record that carries its object and encodes it as JSON only when `value` is read: a bus that
 * serializes (Kafka) reads it at once; the in-process bus hands the object on and never does.
 */
class JsonRecord implements BusRecord {
  readonly key: string | null;
  readonly decoded: unknown;
  #value: Uint8Array | undefined;

  constructor(key: string | null, decoded: unknown) {
    this.key = key;
    this.decoded = decoded;
  }

  get value(): Uint8Array {
    this.#value ??= encodeJson(this.decoded);
    return this.#value;
  }
}

export function envelopeRecord(env: Envelope, key: string | null): BusRecord {
  return { key, value: encodeJson(env) };
}

export function matchRecord(m: MatchMessage): BusRecord {
  return new JsonRecord(messageKey(m), m);
}

/** Match messages packed into one matches record at most (~300 bytes each as JSON: ~75 KB). */
export const MAX_PACKED_MATCHES = 256;

/**
 * Match messages as matches records, packed: the messages bound for one partition of the matches
 * topic (the partition their key picks, Kafka's partitioner) travel as one record, a JSON array in
 * their original order, keyed by the first one's key (so the record lands on that same partition).
 * The correlate side unpacks it (decodeMatches): each partition receives exactly the messages it
 * received one record each before, in the same order, for a fraction of the client's per-record
 * cost (encode, batch, CRC, fetch decode: ~11 µs per record here). A single message stays a plain
 * object. Without the partition count (`partitions` undefined) every message is its own record.
 */
export function matchRecords(matches: readonly MatchMessage[], partitions: number | undefined): BusRecord[] {
  if (partitions === undefined || partitions < 1) return matches.map(matchRecord);
  const out: BusRecord[] = [];
  const open = new Map<number, { key: string; list: MatchMessage[] }>();
  for (const m of matches) {
    const key = messageKey(m);
    const partition = cachedPartition(key, partitions);
    const group = open.get(partition);
    if (group === undefined) open.set(partition, { key, list: [m] });
    else if (group.list.push(m) >= MAX_PACKED_MATCHES) {
      out.push(packedRecord(group.key, group.list));
      open.delete(partition);
    }
  }
  for (const { key, list } of open.values()) out.push(packedRecord(key, list));
  return out;
}

/**
 * Keys repeat (a rule and a host): their partitions are remembered, up to PARTITION_CACHE_KEYS keys
 * (then forgotten at once), rather than UTF-8 encoding and hashing every key again (~2 µs a match).
 */
const PARTITION_CACHE_KEYS = 50_000;
const partitionCache = { partitions: 0, byKey: new Map<string, number>() };

function cachedPartition(key: string, partitions: number): number {
  if (partitionCache.partitions !== partitions || partitionCache.byKey.size >= PARTITION_CACHE_KEYS) {
    partitionCache.partitions = partitions;
    partitionCache.byKey.clear();
  }
  let partition = partitionCache.byKey.get(key);
  if (partition === undefined) {
    partition = partitionForKey(key, partitions);
    partitionCache.byKey.set(key, partition);
  }
  return partition;
}

function packedRecord(key: string, list: MatchMessage[]): BusRecord {
  return { key, value: encodeJson(list.length === 1 ? list[0] : list) };
}

/**
 * The match messages of one matches record: one object, or a packed array (matchRecords). Throws
 * on text that is not JSON; the caller checks each message's shape (isMatchMessage).
 */
export function decodeMatches(record: { value: Uint8Array }): unknown[] {
  const value = decodeJson<unknown>(record);
  return Array.isArray(value) ? value : [value];
}

/** Each partition's last record of a batch: all a commit needs (the rest can be let go). */
export function lastPerPartition<R extends { topic: string; partition: number }>(records: readonly R[]): R[] {
  // A batch holds a few partitions, each in long runs: a linear search at each run's end, no key
  // string per record. In order of each partition's first record.
  const last: R[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const next = records[i + 1];
    if (next !== undefined && next.partition === r.partition && next.topic === r.topic) continue;
    const at = last.findIndex((l) => l.partition === r.partition && l.topic === r.topic);
    if (at < 0) last.push(r);
    else last[at] = r;
  }
  return last;
}

export function alertRecord(alert: Alert): BusRecord {
  return { key: alert.id, value: encodeJson(alert) };
}

/**
 * A consumed raw record back into an InputRecord. Records published by the ingest role carry their
 * original position (file identity + offset) so ids stay the same across replays; records produced
 * by anything else (kcat, Logstash, Fluent Bit) are identified by topic/partition/offset.
 */
export function inputFromRaw(record: ConsumedRecord, formatHint: string | undefined): InputRecord {
  const handed = record.decoded as InputRecord | undefined;
  if (handed !== undefined) {
    // The ingest role's record, handed on by the in-process bus: nothing to decode.
    if (handed.formatHint !== undefined || formatHint === undefined) return handed;
    return { ...handed, formatHint };
  }
  const h = record.headers ?? {};
  let position: InputPosition = {
    kind: 'kafka',
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
  };
  const carried = h[HEADER_POSITION];
  if (carried) {
    try {
      position = JSON.parse(carried) as InputPosition;
    } catch {
      // A foreign producer's malformed header: fall back to the Kafka position.
    }
  }
  const text = decoder.decode(record.value);
  const input: InputRecord = {
    text,
    byteLength: Number(h[HEADER_BYTES] ?? record.value.byteLength),
    position,
    receivedAt: Number(h[HEADER_RECEIVED] ?? record.timestamp),
  };
  // `socstream generate --to kafka:` (and other producers) name the format in a plain `format`
  // header; without reading it, mixed topics fall back to detection, which misreads Zeek JSON.
  const hint = h[HEADER_FORMAT] ?? formatHint ?? h.format;
  if (hint) input.formatHint = hint;
  return input;
}
