import { endianness } from 'node:os';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBType,
  INTEGER,
  LIST,
  TIMESTAMP_MS,
  VARCHAR,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { Envelope } from '../../core/envelope.ts';
import { type Column, type ColumnKind, DUCKDB_TYPE, kindOfValue, type LakeSchema } from './schema.ts';

/**
 * Envelopes → DuckDB data chunks, column by column, without JSON in between.
 *
 * A `ChunkBuilder` collects up to CHUNK_ROWS envelopes of one log type as one JS array of values
 * per column (only the columns the log type's events actually carry: a dns buffer never holds
 * the 90 canonical columns dns leaves empty). `sealChunk()` hands the full arrays over and starts
 * fresh ones; `ChunkEncoder.encode` turns them into one DuckDB data chunk: fixed-width columns
 * (BIGINT, DOUBLE, TIMESTAMP_MS, BOOLEAN) are filled in reusable typed arrays and copied into the
 * chunk with one native call per column; strings take one native call per value; the validity
 * mask is built as bits in JS and copied once per column. The chunk is then appended (one native
 * call) to the generation's buffer table.
 *
 * Why not the row-wise Appender or the node-api vector classes: one native call per cell (~0.5 µs)
 * for the first, one BigInt per 64-bit cell and per validity bit for the second. Here the only
 * per-cell native calls are the strings'.
 *
 * Values are coerced the way the JSON path coerced them (json_transform): a value that does not
 * fit its column's type becomes NULL (counted in `coercedToNull`, reported once per flush) — the
 * `raw` column keeps the original.
 */

/** Rows per data chunk: DuckDB's vector size (2048). */
export const CHUNK_ROWS: number = duckdb.vector_size();

/** The hour bucket (epoch ms / 1 h) of each row: which Parquet file of the flush it goes to. */
export const BUCKET_COLUMN = '__hour_bucket';

/**
 * The kind of a buffer table column: a lake column kind, the bucket (INTEGER), or `text` — JSON
 * the builder already serialized (raw, extra), written as it is.
 */
export type BufferKind = ColumnKind | 'bucket' | 'text';

/** A column of a generation's buffer table. */
export interface BufferColumn {
  /** The lake column name (also the buffer table's). */
  readonly name: string;
  /** For typed raw columns: widened when a later value disagrees (integer → number → json). */
  kind: BufferKind;
  /** The kind the buffer table has it as; null until the table has the column. */
  tableKind: BufferKind | null;
  /** Position in the buffer table (and in its data chunks). */
  position: number;
}

/** One sealed chunk: the rows, and each column's values by row (undefined = NULL). */
export interface SealedChunk {
  rows: number;
  /** Aligned with `columns` at the time of sealing (a later column is absent: all NULL). */
  values: unknown[][];
}

/** Two kinds seen for one raw field: integers widen to numbers, anything else to JSON text. */
export function mergeKinds(a: ColumnKind, b: ColumnKind): ColumnKind {
  if (a === b) return a;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'json';
}

/** Name of the typed column for a raw field (`id.orig_h` → `raw_id_orig_h`). */
export function rawColumnName(key: string): string {
  return `raw_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The buffer table's SQL type of a kind (timestamps are TIMESTAMP_MS as in the files). */
export function bufferSqlType(kind: BufferKind): string {
  if (kind === 'bucket') return 'INTEGER';
  return kind === 'text' ? 'VARCHAR' : DUCKDB_TYPE[kind];
}

/** Lookups built once per writer from the lake schema. */
export class ColumnIndex {
  readonly schema: LakeSchema;
  readonly normalized = new Map<string, Column>();
  readonly enriched = new Map<string, Column>();
  constructor(schema: LakeSchema) {
    this.schema = schema;
    for (const c of schema.columns) {
      if (c.from === 'normalized') this.normalized.set(c.key, c);
      else if (c.from === 'enriched') this.enriched.set(c.key, c);
    }
  }
}

/** Values of one column for the chunk being filled. */
interface Slot {
  column: BufferColumn;
  values: unknown[];
  /** Rows set in the current chunk (0: the column is all NULL in it). */
  count: number;
}

/**
 * Collects envelopes of one log type into columns (see the top of this file). The first six
 * columns are fixed: the hour bucket, id, source, log_type, raw (JSON text), extra (JSON text of
 * fields outside the dictionary); the others are added in the order they are first seen.
 */
export class ChunkBuilder {
  readonly columns: BufferColumn[] = [];
  rows = 0;
  /** Estimated bytes of everything added (strings by length, 8 per other value): `flush_buffer_mb`. */
  bytes = 0;
  readonly #index: ColumnIndex;
  readonly #typedRaw: boolean;
  readonly #slots: Slot[] = [];
  /** Value arrays of encoded chunks, for the next chunk (less garbage per chunk). */
  readonly #free: unknown[][] = [];
  readonly #byNormalized = new Map<string, Slot>();
  readonly #byEnriched = new Map<string, Slot>();
  readonly #byRaw = new Map<string, Slot>();
  readonly #byName = new Map<string, Slot>();
  readonly #bucket: Slot;
  readonly #id: Slot;
  readonly #source: Slot;
  readonly #logType: Slot;
  readonly #raw: Slot;
  readonly #extra: Slot;

  constructor(index: ColumnIndex, typedRaw: boolean) {
    this.#index = index;
    this.#typedRaw = typedRaw;
    this.#bucket = this.#addSlot(BUCKET_COLUMN, 'bucket');
    this.#id = this.#addSlot('id', 'string');
    this.#source = this.#addSlot('source', 'string');
    this.#logType = this.#addSlot('log_type', 'string');
    this.#raw = this.#addSlot('raw', 'text');
    this.#extra = this.#addSlot('extra', 'text');
  }

  /** True when the chunk being filled is full: seal it before adding more. */
  get full(): boolean {
    return this.rows === CHUNK_ROWS;
  }

  add(env: Envelope, bucket: number): void {
    const row = this.rows++;
    set(this.#bucket, row, bucket);
    set(this.#id, row, env.id);
    set(this.#source, row, env.source);
    set(this.#logType, row, env.log_type);
    const rawText = JSON.stringify(env.raw ?? {});
    set(this.#raw, row, rawText);
    let bytes = env.id.length + rawText.length + 16;
    let extra: Record<string, unknown> | null = null;
    const index = this.#index;
    const normalized = env.normalized;
    for (const key in normalized) {
      const value = normalized[key];
      if (value === undefined || value === null) continue;
      let slot = this.#byNormalized.get(key);
      if (slot === undefined) {
        const column = index.normalized.get(key);
        if (column === undefined) {
          if (!index.schema.normalizedKeys.has(key)) {
            extra ??= {};
            extra[key] = value;
          }
          continue;
        }
        slot = this.#slotFor(column.name, column.kind);
        this.#byNormalized.set(key, slot);
      }
      set(slot, row, value);
      bytes += typeof value === 'string' ? value.length : 8;
    }
    const enriched = env.enriched;
    for (const key in enriched) {
      const value = enriched[key];
      if (value === undefined || value === null) continue;
      let slot = this.#byEnriched.get(key);
      if (slot === undefined) {
        const column = index.enriched.get(key);
        if (column === undefined) {
          // A dictionary field without a column of its own (its name is taken) is not "extra".
          if (!index.schema.enrichedKeys.has(key)) {
            extra ??= {};
            extra[key] = value;
          }
          continue;
        }
        slot = this.#slotFor(column.name, column.kind);
        this.#byEnriched.set(key, slot);
      }
      set(slot, row, value);
      bytes += typeof value === 'string' ? value.length : 8;
    }
    if (extra !== null) {
      const text = JSON.stringify(extra);
      set(this.#extra, row, text);
      bytes += text.length;
    }
    if (this.#typedRaw) this.#addRawColumns(env.raw, row);
    this.bytes += bytes;
  }

  /** Hands over the filled chunk and starts an empty one (same columns). */
  sealChunk(): SealedChunk {
    const values: unknown[][] = [];
    for (const slot of this.#slots) {
      values.push(slot.count > 0 ? slot.values : EMPTY);
      if (slot.count > 0) {
        slot.values = this.#free.pop() ?? new Array(CHUNK_ROWS);
        slot.count = 0;
      }
    }
    const sealed = { rows: this.rows, values };
    this.rows = 0;
    return sealed;
  }

  /** Takes back the value arrays of an encoded chunk (cleared, so they hold on to nothing). */
  recycle(sealed: SealedChunk): void {
    for (const values of sealed.values) {
      if (values === EMPTY || this.#free.length >= this.#slots.length) continue;
      values.fill(undefined, 0, sealed.rows);
      this.#free.push(values);
    }
    sealed.values = [];
  }

  #addRawColumns(raw: Envelope['raw'], row: number): void {
    for (const key in raw) {
      const value = raw[key];
      const kind = kindOfValue(value);
      if (kind === null) continue;
      let slot = this.#byRaw.get(key);
      if (slot === undefined) {
        slot = this.#slotFor(rawColumnName(key), kind);
        this.#byRaw.set(key, slot);
      }
      const column = slot.column;
      if (column.kind !== kind) column.kind = mergeKinds(column.kind as ColumnKind, kind);
      set(slot, row, value);
    }
  }

  /** The slot of a column by name (two raw keys can map to one name: they share it). */
  #slotFor(name: string, kind: ColumnKind): Slot {
    return this.#byName.get(name) ?? this.#addSlot(name, kind);
  }

  #addSlot(name: string, kind: BufferKind): Slot {
    const column: BufferColumn = { name, kind, tableKind: null, position: this.columns.length };
    this.columns.push(column);
    const slot: Slot = { column, values: new Array(CHUNK_ROWS), count: 0 };
    this.#slots.push(slot);
    this.#byName.set(name, slot);
    return slot;
  }
}

const EMPTY: unknown[] = [];

function set(slot: Slot, row: number, value: unknown): void {
  slot.values[row] = value;
  slot.count++;
}

/** 2^32, to split a safe integer into the two halves of an int64. */
const TWO_32 = 4294967296;

/**
 * Writes sealed chunks into DuckDB data chunks. Owns reusable scratch buffers; one per writer
 * (encoding is synchronous, so flushes never share a buffer mid-use).
 */
export class ChunkEncoder {
  /** Values that did not fit their column's type and were written as NULL (see the top). */
  coercedToNull = 0;
  readonly #f64 = new Float64Array(CHUNK_ROWS);
  readonly #i32 = new Int32Array(CHUNK_ROWS * 2);
  readonly #u8 = new Uint8Array(CHUNK_ROWS);
  readonly #validity = new Uint32Array(CHUNK_ROWS / 32);
  readonly #listEntries = new Int32Array(CHUNK_ROWS * 4);
  readonly #childValidity: Uint32Array<ArrayBuffer>[] = [];
  readonly #inline = new Uint8Array(CHUNK_ROWS * 16);
  readonly #inlineWords = new Uint32Array(this.#inline.buffer);
  readonly #longRows = new Int32Array(CHUNK_ROWS);

  /** Fills `chunk` (created with the types of `columns`, in order) from `sealed`. */
  encode(chunk: duckdb.DataChunk, columns: readonly BufferColumn[], sealed: SealedChunk): void {
    const rows = sealed.rows;
    for (const column of columns) {
      const vector = duckdb.data_chunk_get_vector(chunk, column.position);
      const values = sealed.values[column.position];
      if (values === undefined || values.length === 0) this.#allNull(vector, rows);
      else this.#column(vector, column.tableKind ?? column.kind, values, rows);
    }
    duckdb.data_chunk_set_size(chunk, rows);
  }

  #column(vector: duckdb.Vector, kind: BufferKind, values: unknown[], rows: number): void {
    const validity = this.#validity;
    validity.fill(0);
    let valid = 0;
    switch (kind) {
      case 'string': {
        // Short ASCII strings (IPs, protocols, classes) are written inline into the vector's
        // string_t slots (DuckDB's duckdb_string_t: uint32 length + up to 12 bytes) and copied in
        // one call; longer ones take a native call each, after that copy.
        const inline = this.#inline;
        inline.fill(0, 0, rows * 16);
        const longRows = this.#longRows;
        let longs = 0;
        for (let r = 0; r < rows; r++) {
          const text = asString(values[r]);
          if (text === null) continue;
          if (!INLINE_STRINGS || text.length > 12 || !writeInline(inline, this.#inlineWords, r, text))
            longRows[longs++] = r;
          validity[r >>> 5] |= 1 << (r & 31);
          valid++;
        }
        if (longs < valid) duckdb.copy_data_to_vector(vector, 0, inline.buffer, 0, rows * 16);
        for (let k = 0; k < longs; k++) {
          const r = longRows[k] as number;
          duckdb.vector_assign_string_element(vector, r, asString(values[r]) as string);
        }
        break;
      }
      case 'text':
      case 'json':
        for (let r = 0; r < rows; r++) {
          const v = values[r];
          if (v === undefined || v === null) continue;
          duckdb.vector_assign_string_element(vector, r, kind === 'text' ? (v as string) : JSON.stringify(v));
          validity[r >>> 5] |= 1 << (r & 31);
          valid++;
        }
        break;
      case 'number': {
        const f64 = this.#f64;
        for (let r = 0; r < rows; r++) {
          const v = values[r];
          if (typeof v === 'number' && Number.isFinite(v)) {
            f64[r] = v;
            validity[r >>> 5] |= 1 << (r & 31);
            valid++;
          } else if (v !== undefined && v !== null) this.coercedToNull++;
        }
        duckdb.copy_data_to_vector(vector, 0, f64.buffer, 0, rows * 8);
        break;
      }
      case 'integer':
      case 'timestamp':
      case 'bucket': {
        // int64 (BIGINT, TIMESTAMP_MS) as two little-endian int32 halves; INTEGER as one.
        const i32 = this.#i32;
        const wide = kind !== 'bucket';
        for (let r = 0; r < rows; r++) {
          let v = values[r];
          if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
            // A fractional epoch ms is cut to the ms; anything outside ±2^53 ms is not a time.
            if (kind === 'timestamp' && typeof v === 'number' && Number.isSafeInteger(Math.trunc(v)))
              v = Math.trunc(v);
            else {
              if (v !== undefined && v !== null) this.coercedToNull++;
              continue;
            }
          }
          const n = v as number;
          if (wide) {
            i32[2 * r] = n >>> 0;
            i32[2 * r + 1] = Math.floor(n / TWO_32);
          } else i32[r] = n;
          validity[r >>> 5] |= 1 << (r & 31);
          valid++;
        }
        duckdb.copy_data_to_vector(vector, 0, i32.buffer, 0, rows * (wide ? 8 : 4));
        break;
      }
      case 'boolean': {
        const u8 = this.#u8;
        for (let r = 0; r < rows; r++) {
          const v = values[r];
          if (typeof v === 'boolean') {
            u8[r] = v ? 1 : 0;
            validity[r >>> 5] |= 1 << (r & 31);
            valid++;
          } else if (v !== undefined && v !== null) this.coercedToNull++;
        }
        duckdb.copy_data_to_vector(vector, 0, u8.buffer, 0, rows);
        break;
      }
      case 'strings':
        valid = this.#lists(vector, values, rows, validity);
        break;
    }
    if (valid < rows) this.#writeValidity(vector, validity, rows);
  }

  /** VARCHAR[]: (offset, length) entries as uint64 pairs, the elements in the child vector. */
  #lists(vector: duckdb.Vector, values: unknown[], rows: number, validity: Uint32Array<ArrayBuffer>): number {
    const entries = this.#listEntries;
    let total = 0;
    let valid = 0;
    for (let r = 0; r < rows; r++) {
      const v = values[r];
      entries[4 * r] = total;
      entries[4 * r + 1] = 0;
      entries[4 * r + 3] = 0;
      if (Array.isArray(v)) {
        entries[4 * r + 2] = v.length;
        total += v.length;
        validity[r >>> 5] |= 1 << (r & 31);
        valid++;
      } else {
        entries[4 * r + 2] = 0;
        if (v !== undefined && v !== null) this.coercedToNull++;
      }
    }
    duckdb.list_vector_reserve(vector, total);
    duckdb.list_vector_set_size(vector, total);
    const child = duckdb.list_vector_get_child(vector);
    const words = Math.ceil(total / 32) + 1;
    let childValidity = this.#childValidity[0];
    if (childValidity === undefined || childValidity.length < words) {
      childValidity = new Uint32Array(Math.max(words, CHUNK_ROWS / 16));
      this.#childValidity[0] = childValidity;
    }
    childValidity.fill(0, 0, words);
    let at = 0;
    let childValid = 0;
    for (let r = 0; r < rows; r++) {
      const v = values[r];
      if (!Array.isArray(v)) continue;
      for (const item of v) {
        const text = asString(item);
        if (text !== null) {
          duckdb.vector_assign_string_element(child, at, text);
          childValidity[at >>> 5] |= 1 << (at & 31);
          childValid++;
        }
        at++;
      }
    }
    if (childValid < total) this.#writeValidity(child, childValidity, total);
    duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, rows * 16);
    return valid;
  }

  #allNull(vector: duckdb.Vector, rows: number): void {
    this.#validity.fill(0);
    this.#writeValidity(vector, this.#validity, rows);
  }

  /** Copies the validity bits (uint64 words, little-endian: two uint32 per word). */
  #writeValidity(vector: duckdb.Vector, validity: Uint32Array<ArrayBuffer>, rows: number): void {
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer, 0, Math.ceil(rows / 64) * 8);
  }
}

/** string_t slots are written from JS only where their little-endian layout is the host's. */
const INLINE_STRINGS = endianness() === 'LE';

/**
 * Writes `text` as an inlined duckdb_string_t at slot `row` when it is ASCII (≤ 12 chars, checked
 * by the caller): the length as uint32, then the bytes; the rest of the slot stays zero, as DuckDB
 * keeps it (inlined strings compare by all 16 bytes). False, with the slot cleared, otherwise.
 */
function writeInline(bytes: Uint8Array, words: Uint32Array, row: number, text: string): boolean {
  const base = row * 16 + 4;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) {
      bytes.fill(0, base, base + i);
      return false;
    }
    bytes[base + i] = code;
  }
  words[row * 4] = text.length;
  return true;
}

/** A value for a VARCHAR column: strings as they are, numbers and booleans as text, objects as JSON. */
function asString(v: unknown): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
      return String(v);
    case 'object':
      return v === null ? null : JSON.stringify(v);
    default:
      return null;
  }
}

/** The DuckDB types of `columns`, for a data chunk of the buffer table. */
export function chunkTypes(columns: readonly BufferColumn[]): DuckDBType[] {
  return columns.map((c) => duckdbTypeOf(c.tableKind ?? c.kind));
}

function duckdbTypeOf(kind: BufferKind): DuckDBType {
  switch (kind) {
    case 'bucket':
      return INTEGER;
    case 'integer':
      return BIGINT;
    case 'number':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
    case 'timestamp':
      return TIMESTAMP_MS;
    case 'strings':
      return LIST(VARCHAR);
    default:
      return VARCHAR;
  }
}
