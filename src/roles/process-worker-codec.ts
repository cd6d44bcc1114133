import type { BusRecord, ConsumedRecord } from '../core/bus.ts';

/**
 * A consumed batch as it crosses to the process worker (process-worker.ts): the raw values copied
 * into ONE buffer and the positions into typed arrays, all transferred (moved, not cloned); only
 * the keys, the headers (when a record has any) and the in-process bus's handed-on objects are
 * cloned. The worker gets back records equal to the consumed ones in every field the process role
 * reads (topic, partition, offset, key, timestamp, headers, value, decoded).
 */
export interface PackedBatch {
  topics: string[];
  /** Per record: its topic's index in `topics`. */
  topic: Uint16Array;
  partition: Int32Array;
  /** Offsets as numbers: exact below 2^53 (9 peta-records per partition). */
  offset: Float64Array;
  timestamp: Float64Array;
  keys: Array<string | null>;
  /** Per record, or null when no record of the batch has headers. */
  headers: Array<Record<string, string> | undefined> | null;
  /** The values of the records without a handed-on object, back to back. */
  values: Uint8Array;
  /** Per record: the end of its value in `values` (its start is the previous record's end). */
  ends: Uint32Array;
  /** Per record: the object the in-process bus handed on, or null when none of the batch has one. */
  decoded: unknown[] | null;
}

/** Packs a batch; `transfer` lists the buffers to move with postMessage. */
export function packBatch(records: readonly ConsumedRecord[]): {
  packed: PackedBatch;
  transfer: ArrayBuffer[];
} {
  const n = records.length;
  const topics: string[] = [];
  const topic = new Uint16Array(n);
  const partition = new Int32Array(n);
  const offset = new Float64Array(n);
  const timestamp = new Float64Array(n);
  const keys: Array<string | null> = new Array(n);
  const ends = new Uint32Array(n);
  let headers: Array<Record<string, string> | undefined> | null = null;
  let decoded: unknown[] | null = null;
  let bytes = 0;
  let lastTopic = '';
  let lastIndex = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r.decoded === undefined) bytes += r.value.byteLength;
  }
  const values = new Uint8Array(bytes);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r.topic !== lastTopic || lastIndex < 0) {
      lastTopic = r.topic;
      lastIndex = topics.indexOf(r.topic);
      if (lastIndex < 0) lastIndex = topics.push(r.topic) - 1;
    }
    topic[i] = lastIndex;
    partition[i] = r.partition;
    offset[i] = Number(r.offset);
    timestamp[i] = r.timestamp;
    keys[i] = r.key;
    if (r.decoded !== undefined) {
      // The in-process bus's object: its value and headers are not read (built only when read).
      decoded ??= new Array(n).fill(null);
      decoded[i] = r.decoded;
    } else {
      if (r.headers !== undefined) {
        headers ??= new Array(n);
        headers[i] = r.headers;
      }
      values.set(r.value, at);
      at += r.value.byteLength;
    }
    ends[i] = at;
  }
  return {
    packed: { topics, topic, partition, offset, timestamp, keys, headers, values, ends, decoded },
    transfer: [
      topic.buffer,
      partition.buffer,
      offset.buffer,
      timestamp.buffer,
      ends.buffer,
      values.buffer,
    ] as ArrayBuffer[],
  };
}

const EMPTY = new Uint8Array(0);

/** The records of a packed batch, in their order (values are views into the one buffer). */
export function unpackBatch(packed: PackedBatch): ConsumedRecord[] {
  const n = packed.topic.length;
  const out: ConsumedRecord[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = packed.ends[i];
    const record: ConsumedRecord = {
      topic: packed.topics[packed.topic[i]],
      partition: packed.partition[i],
      offset: BigInt(packed.offset[i]),
      key: packed.keys[i],
      value: end > start ? packed.values.subarray(start, end) : EMPTY,
      timestamp: packed.timestamp[i],
    };
    const headers = packed.headers?.[i];
    if (headers !== undefined) record.headers = headers;
    const decoded = packed.decoded?.[i];
    if (decoded !== undefined && decoded !== null) record.decoded = decoded;
    out[i] = record;
    start = end;
  }
  return out;
}

/** Records as bytes: keys, and values back to back in one buffer (transferred). */
export interface PackedRecords {
  keys: Array<string | null>;
  values: Uint8Array;
  ends: Uint32Array;
}

/** Bus records (their values read once, here) as keys and one buffer to transfer. */
export function packRecords(records: readonly BusRecord[]): {
  packed: PackedRecords;
  transfer: ArrayBuffer[];
} {
  const n = records.length;
  const keys: Array<string | null> = new Array(n);
  const ends = new Uint32Array(n);
  const values: Uint8Array[] = new Array(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    keys[i] = records[i].key;
    values[i] = records[i].value;
    bytes += values[i].byteLength;
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (let i = 0; i < n; i++) {
    all.set(values[i], at);
    at += values[i].byteLength;
    ends[i] = at;
  }
  return { packed: { keys, values: all, ends }, transfer: [all.buffer, ends.buffer] as ArrayBuffer[] };
}

/** The records of packRecords, their values views into the one buffer (no copy). */
export function unpackRecords(packed: PackedRecords): BusRecord[] {
  const out: BusRecord[] = new Array(packed.keys.length);
  const { buffer, byteOffset } = packed.values;
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    const end = packed.ends[i];
    out[i] = { key: packed.keys[i], value: Buffer.from(buffer, byteOffset + start, end - start) };
    start = end;
  }
  return out;
}
