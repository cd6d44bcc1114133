import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
} from '@duckdb/node-api';
import { type Deferred, deferred } from '../../core/deferred.ts';
import { type Envelope, eventTimeOf } from '../../core/envelope.ts';
import { SinkUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { quoteIdent, sqlString } from '../../core/sql.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import {
  BUCKET_COLUMN,
  type BufferColumn,
  bufferSqlType,
  ChunkBuilder,
  ChunkEncoder,
  ColumnIndex,
  chunkTypes,
  type SealedChunk,
} from './columns.ts';
import { buildLakeSchema, DUCKDB_TYPE, type LakeSchema } from './schema.ts';

export { rawColumnName } from './columns.ts';

/**
 * The Parquet lake writer: one buffer per log type, flushed to
 * `<lake>/<log_type>/year=YYYY/month=MM/day=DD/hour=HH/events_<log_type>_<unique>.parquet` (zstd).
 *
 * How events are buffered: `write(envelopes)` turns each envelope into one row of typed columns
 * in JS (columns.ts) and, every 2,048 rows of a log type, appends them as one DuckDB data chunk to
 * that log type's buffer table in DuckDB's memory (no JSON text, no staging file). A buffer table
 * has only the columns its events carry; DuckDB keeps it under `memory_limit` and spills to
 * `<lake>/.staging/<writer>/` beyond it. No envelope stays alive in the heap after its write()
 * call returned to the event loop, except the ≤ 2,047 rows of the chunk being filled.
 *
 * How a flush works: the partial chunk is appended, then per hour bucket one
 * `COPY (SELECT <the lake layout> FROM <buffer> WHERE bucket = … AND <first row per id>) TO
 * '<dir>/.<name>.tmp' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES …)` runs in DuckDB's
 * threads: columns the buffer lacks are written as typed NULLs, so every file has the full layout
 * readers expect; a replayed id appears once per file; row groups are cut by bytes so the Parquet
 * writer's memory stays inside memory_limit. The file is fsynced and renamed to its final name,
 * so a reader globbing `*.parquet` never sees a partial file; then the buffer table is dropped.
 *
 * Acks: `write(batch)` resolves once every row of the batch is in a renamed file. Several writes
 * can be pending at once (a flush condition may take a while to be reached); the caller acks its
 * input, in order, as they resolve. Backpressure: at most `maxPendingFlushes` flushes run at once,
 * and a write that fills a buffer waits for a free flush slot.
 *
 * Storage full (ENOSPC, EDQUOT, EIO, EROFS — from Node or inside DuckDB's COPY): the flush is not
 * failed but retried with exponential backoff (up to `blockedRetryMaxMs` between attempts) until
 * the file system takes it or the writer stops. Meanwhile the writer is *blocked*: `blocked()` is
 * true, `whenWritable()` waits, `socstream_sink_blocked{sink}` is 1, one warning per attempt. The
 * caller stops handing on new records, so memory stays bounded by what was in flight when the
 * disk filled. The temp file of a failed attempt is removed at once, so a full disk is not filled
 * further; the buffer table stays for the next attempt. Other errors keep the short retry (200 ms,
 * 1 s) and then fail the flush.
 */
export interface LakeWriterOptions {
  dir: string;
  /** 0 disables each condition; the conditions are OR-ed. */
  flushBufferBytes: number;
  flushEventCount: number;
  flushIntervalMs: number;
  maxPendingFlushes: number;
  typedRawColumns: boolean;
  /** Longest wait between attempts while the storage is full (default 30 s). */
  blockedRetryMaxMs?: number;
  /**
   * DuckDB's memory_limit in MB for the buffers and the COPY; DuckDB's default (80 % of RAM) when
   * absent. Also bounds the buffers: past BUFFER_SHARE of it, the largest buffer is flushed.
   */
  duckdbMemoryLimitMb?: number;
  /** DuckDB's worker threads (default 1: the JS thread keeps the other core). */
  duckdbThreads?: number;
  /**
   * DuckDB's allocator (its bundled jemalloc, not glibc: MALLOC_ARENA_MAX does not reach it) with a
   * background thread that returns freed pages to the system on a timer (default true). Without it,
   * pages a flush freed stay resident until DuckDB allocates again.
   */
  duckdbAllocatorBackgroundThreads?: boolean;
  logger: Logger;
  telemetry?: Telemetry;
  /** Metric label. */
  sinkName?: string;
}

export const FLUSH_REASONS = ['size', 'count', 'interval', 'explicit'] as const;
export type FlushReason = (typeof FLUSH_REASONS)[number];

const HOUR_MS = 3_600_000;
/** Waits between attempts to write one file (then the flush fails), for errors other than storage full. */
const RETRY_DELAYS_MS = [200, 1000];
/** First wait while the storage is full; doubled per attempt up to blockedRetryMaxMs. */
const BLOCKED_FIRST_DELAY_MS = 200;
const DEFAULT_BLOCKED_RETRY_MAX_MS = 30_000;
/** Error codes meaning "the storage cannot take data now": wait for space instead of failing. */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);
/** The same conditions as DuckDB reports them (its IO errors carry strerror text, not a code). */
const STORAGE_FULL_TEXT =
  /No space left on device|Disk quota exceeded|Input\/output error|Read-only file system/i;

/** True when `err` (or its cause) says the storage is full or failing rather than the data being bad. */
export function isStorageFull(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === 'string' && STORAGE_FULL_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && STORAGE_FULL_TEXT.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Staging dirs (DuckDB's spill files) and temp files older than this are left-overs of a crash. */
const STALE_TEMP_MS = 10 * 60_000;
/** Chunks appended between two appender flushes (rows move into the table, where DuckDB may spill them). */
const CHUNKS_PER_APPENDER_FLUSH = 4;
/** Parquet row groups are cut at this many bytes at most (memory of the COPY; DuckDB's default cut is 122,880 rows). */
const MAX_ROW_GROUP_BYTES = 64 * 1024 * 1024;
const MIN_ROW_GROUP_BYTES = 1024 * 1024;
const DEFAULT_ROW_GROUP_BYTES = 32 * 1024 * 1024;
/**
 * Share of DuckDB's memory_limit the buffers (all log types, estimated bytes) may fill before the
 * largest is flushed: the rest is for the flushes' COPY (row groups, zstd, the per-id dedupe) and
 * for DuckDB's own estimate of a row being above ours. Beyond it DuckDB would have to spill.
 */
const BUFFER_SHARE = 0.4;
/**
 * zstd level 1 instead of DuckDB's default 3: measured on 100,000 mixed envelopes, ~30 % less CPU
 * for the COPY and no larger files (10.3 MB vs 10.6 MB).
 */
const ZSTD_LEVEL = 1;

/** The DuckDB settings start() sets on the writer's instance (reported by duckdbSettings()). */
const WRITER_SETTINGS = [
  'memory_limit',
  'threads',
  'preserve_insertion_order',
  'allocator_background_threads',
  'temp_directory',
];

/** Envelopes buffered for one log type until the next flush: a buffer table in DuckDB. */
class Generation {
  readonly builder: ChunkBuilder;
  readonly table: string;
  /** Hour buckets (epoch ms / 1 h) of the rows: one file each. */
  readonly buckets = new Set<number>();
  count = 0;
  readonly startedAt = Date.now();
  /** Sealed chunks are appended one after the other (writer-wide queue); the flush waits for the last. */
  appended: Promise<void> = Promise.resolve();
  appendError: unknown = null;
  appender: DuckDBAppender | null = null;
  chunk: DuckDBDataChunk | null = null;
  chunksSinceFlush = 0;
  tableCreated = false;
  /** Bucket → its renamed file, so a retry after the rename (a failed directory fsync) does not write it twice. */
  readonly renamed = new Map<number, string>();
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (err: Error) => void;
  constructor(builder: ChunkBuilder, table: string) {
    this.builder = builder;
    this.table = table;
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Waiters get the rejection; this keeps an unobserved failure from killing the process.
    this.durable.catch(() => {});
  }
  get bytes(): number {
    return this.builder.bytes;
  }
}

interface LogTypeBuffer {
  logType: string;
  /** The log type as a safe directory / file name part. */
  dirName: string;
  gen: Generation;
}

/** A counting semaphore: the bound on concurrent flushes. */
class Slots {
  #free: number;
  readonly #waiters: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/** `year=YYYY/month=MM/day=DD/hour=HH` of an hour bucket (UTC). */
export function partitionPath(hourBucket: number): string {
  const iso = new Date(hourBucket * HOUR_MS).toISOString();
  return `year=${iso.slice(0, 4)}/month=${iso.slice(5, 7)}/day=${iso.slice(8, 10)}/hour=${iso.slice(11, 13)}`;
}

/** Log types become directory names: anything but [A-Za-z0-9_-] is replaced so no path escapes. */
export function safeName(logType: string): string {
  const cleaned = logType.replace(/[^A-Za-z0-9_-]/g, '_');
  return cleaned === '' ? '_' : cleaned;
}

/** Where writers record the column layouts they write (see recordSchema). */
export const SCHEMAS_DIR = '.schemas';
export const TYPED_RAW_MARKER = 'typed-raw-columns';

/**
 * Records this writer's column layout as `<lake>/.schemas/<hash>.json` (and a marker when typed
 * raw columns make every flush's layout differ). The query layer reads only this directory to know
 * whether all files share one layout — then views bind from the first file and partition pruning
 * opens nothing else — or must be merged by column name (the dictionary grew, typed raw columns).
 */
export async function recordSchema(lakeDir: string, schema: LakeSchema, typedRaw: boolean): Promise<void> {
  const dir = join(lakeDir, SCHEMAS_DIR);
  await mkdir(dir, { recursive: true });
  const layout = schema.columns.map((c) => ({ name: c.name, type: DUCKDB_TYPE[c.kind] }));
  const text = JSON.stringify(layout);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  await writeFile(join(dir, `${hash}.json`), text, { flag: 'w' });
  if (typedRaw) await writeFile(join(dir, TYPED_RAW_MARKER), '', { flag: 'w' });
}

/** fsync a file, or a directory after a rename into it (so the rename survives a crash). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes of a Parquet row group: an eighth of the memory limit per concurrent flush, within bounds. */
export function rowGroupBytes(memoryLimitMb: number | undefined, maxPendingFlushes: number): number {
  if (memoryLimitMb === undefined || !(memoryLimitMb > 0)) return DEFAULT_ROW_GROUP_BYTES;
  const share = Math.floor((memoryLimitMb * 1024 * 1024) / (8 * Math.max(1, maxPendingFlushes)));
  return Math.min(MAX_ROW_GROUP_BYTES, Math.max(MIN_ROW_GROUP_BYTES, share));
}

export class LakeWriter {
  readonly #options: LakeWriterOptions;
  readonly #schema: LakeSchema;
  readonly #index: ColumnIndex;
  readonly #schemaNames: ReadonlySet<string>;
  readonly #encoder = new ChunkEncoder();
  readonly #buffers = new Map<string, LogTypeBuffer>();
  readonly #slots: Slots;
  readonly #inflight = new Set<Promise<void>>();
  readonly #partitionPaths = new Map<number, string>();
  readonly #sink: string;
  readonly #rowGroupBytes: number;
  /** Buffered bytes (all log types) past which the largest buffer is flushed; 0: no bound. */
  readonly #bufferBudget: number;
  #bufferedBytes = 0;
  #instance: DuckDBInstance | null = null;
  /** The connection of the appenders and of the buffer tables' DDL; used through #appendQueue only. */
  #appendConnection: DuckDBConnection | null = null;
  /** Appends and DDL on #appendConnection, one after the other. */
  #appendQueue: Promise<void> = Promise.resolve();
  #stagingDir = '';
  #timer: NodeJS.Timeout | null = null;
  #fileCounter = 0;
  #tableCounter = 0;
  /** Directories and the schema record are made before the first file when start() found the disk full. */
  #prepared = false;
  #blockedFlushes = 0;
  #blockedSince: number | null = null;
  #unblocked: Deferred<void> | null = null;
  /** Aborted by stop(): blocked flushes give up (their writers' promises reject, nothing is acked). */
  #stopping = new AbortController();

  constructor(options: LakeWriterOptions, schema: LakeSchema = buildLakeSchema()) {
    this.#options = options;
    this.#schema = schema;
    this.#index = new ColumnIndex(schema);
    this.#schemaNames = new Set(schema.columns.map((c) => c.name));
    this.#slots = new Slots(options.maxPendingFlushes);
    this.#sink = options.sinkName ?? 'lake';
    this.#rowGroupBytes = rowGroupBytes(options.duckdbMemoryLimitMb, options.maxPendingFlushes);
    const limitMb = options.duckdbMemoryLimitMb ?? 0;
    this.#bufferBudget = limitMb > 0 ? Math.floor(limitMb * 1024 * 1024 * BUFFER_SHARE) : 0;
  }

  async start(): Promise<void> {
    this.#stopping = new AbortController();
    // Unique per writer instance: several writers (processes) share one lake.
    this.#stagingDir = join(
      this.#options.dir,
      '.staging',
      `${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      await this.#prepare();
    } catch (err) {
      // A full disk at start is the same condition as during a flush: wait for space at the first
      // flush instead of failing the role (it must be able to consume, block and resume).
      if (!isStorageFull(err)) throw err;
      this.#options.logger.warn(
        { err },
        'lake storage full at start; directories are made at the first flush',
      );
    }
    await this.#sweepStaleStaging();
    const config: Record<string, string> = {
      threads: String(Math.max(1, this.#options.duckdbThreads ?? 1)),
      // Buffer tables beyond memory_limit spill here (removed at stop, swept after a crash).
      temp_directory: join(this.#stagingDir, 'duckdb'),
      // Row order inside a file means nothing to the lake; not keeping it lets the COPY stream
      // with less memory and allows ROW_GROUP_SIZE_BYTES.
      preserve_insertion_order: 'false',
      // A dropped buffer table's pages go back to the system within seconds, not at the next
      // allocation (docs/lake.md "Memory").
      allocator_background_threads: String(this.#options.duckdbAllocatorBackgroundThreads ?? true),
    };
    const limitMb = this.#options.duckdbMemoryLimitMb ?? 0;
    if (limitMb > 0) config.memory_limit = `${limitMb}MB`;
    this.#instance = await DuckDBInstance.create(':memory:', config);
    this.#appendConnection = await this.#instance.connect();
    const interval = this.#options.flushIntervalMs;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#flushAged(), Math.min(interval, 1000));
      this.#timer.unref();
    }
  }

  /**
   * Resolves once every row of `batch` is in a renamed Parquet file. The envelopes are turned
   * into column values at once: the batch is garbage as soon as this returns to the event loop.
   */
  write(batch: readonly Envelope[]): Promise<void> {
    return this.#addAll(batch).then(async (pending) => {
      await Promise.all([...pending].map((g) => g.durable));
    });
  }

  async #addAll(batch: readonly Envelope[]): Promise<Set<Generation>> {
    // After stop() nothing would ever flush these rows: refuse instead of waiting forever.
    if (this.#instance === null) throw new SinkUnavailableError('the lake writer is not running');
    const pending = new Set<Generation>();
    const now = Date.now();
    for (let i = 0; i < batch.length; i++) {
      const env = batch[i] as Envelope;
      const buffer = this.#bufferFor(env.log_type);
      const gen = buffer.gen;
      // Partition by event time, else ingest time, else now.
      const bucket = Math.floor(eventTimeOf(env, now) / HOUR_MS);
      const before = gen.builder.bytes;
      gen.builder.add(env, bucket);
      this.#bufferedBytes += gen.builder.bytes - before;
      gen.buckets.add(bucket);
      gen.count++;
      if (gen.builder.full) this.#seal(gen);
      pending.add(gen);
      const reason = this.#flushReason(gen);
      if (reason !== null) await this.#rotate(buffer, gen, reason);
      else if (this.#bufferBudget > 0 && this.#bufferedBytes > this.#bufferBudget)
        await this.#rotateLargest();
    }
    return pending;
  }

  /** True while flushes wait for the storage to take data again (disk full). */
  blocked(): boolean {
    return this.#blockedFlushes > 0;
  }

  /** When the writer blocked (epoch ms), or null. */
  blockedSince(): number | null {
    return this.#blockedSince;
  }

  /** Resolves at once when not blocked, else once every blocked flush went through (or stop()). */
  whenWritable(): Promise<void> {
    if (this.#blockedFlushes === 0) return Promise.resolve();
    this.#unblocked ??= deferred<void>();
    return this.#unblocked.promise;
  }

  /** Flushes every buffer and waits for all flushes in flight. */
  async flush(): Promise<void> {
    const rotations: Promise<void>[] = [];
    for (const buffer of this.#buffers.values()) {
      if (buffer.gen.count > 0) rotations.push(this.#rotate(buffer, buffer.gen, 'explicit'));
    }
    await Promise.all(rotations);
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Flushes what is buffered and closes. Blocked flushes (disk full) get one more attempt each and
   * then fail: their writers' promises reject, so nothing of theirs is acknowledged.
   */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopping.abort();
    if (this.#instance) {
      await this.flush().catch(() => {});
      await this.#appendQueue;
      this.#appendConnection?.closeSync();
      this.#appendConnection = null;
      this.#instance.closeSync();
      this.#instance = null;
      this.#buffers.clear();
      await rm(this.#stagingDir, { recursive: true, force: true });
    }
  }

  /**
   * DuckDB's own values (duckdb_settings()) of the settings the writer's instance was created with:
   * what the buffers and the COPY really run under.
   */
  async duckdbSettings(): Promise<Record<string, string>> {
    const connection = this.#appendConnection;
    if (connection === null) throw new SinkUnavailableError('lake writer is not started');
    const names = WRITER_SETTINGS.map(sqlString).join(', ');
    let rows: unknown[][] = [];
    await this.#enqueue(async () => {
      const reader = await connection.runAndReadAll(
        `SELECT name, value FROM duckdb_settings() WHERE name IN (${names})`,
      );
      rows = reader.getRows();
    });
    return Object.fromEntries(rows.map(([name, value]) => [String(name), String(value)]));
  }

  /** Events buffered and not yet in a flush (all log types). */
  bufferedEvents(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.gen.count;
    return n;
  }

  /** Estimated bytes buffered and not yet in a flush (the measure of `flushBufferBytes`). */
  bufferedBytes(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.gen.bytes;
    return n;
  }

  #bufferFor(logType: string): LogTypeBuffer {
    let buffer = this.#buffers.get(logType);
    if (buffer === undefined) {
      buffer = { logType, dirName: safeName(logType), gen: this.#newGeneration() };
      this.#buffers.set(logType, buffer);
    }
    return buffer;
  }

  #newGeneration(): Generation {
    return new Generation(
      new ChunkBuilder(this.#index, this.#options.typedRawColumns),
      `buffer_${++this.#tableCounter}`,
    );
  }

  /** Runs `task` on the append connection after everything queued before it. */
  #enqueue(task: () => Promise<void> | void): Promise<void> {
    const run = this.#appendQueue.then(task);
    this.#appendQueue = run.catch(() => {});
    return run;
  }

  /** Hands the builder's full chunk to the append queue; the builder goes on with empty columns. */
  #seal(gen: Generation): void {
    const sealed = gen.builder.sealChunk();
    this.#enqueue(() => this.#appendChunk(gen, sealed)).catch((err) => {
      // The flush of this generation fails with it (its rows are not all in the table).
      gen.appendError ??= err;
    });
  }

  async #appendChunk(gen: Generation, sealed: SealedChunk): Promise<void> {
    if (gen.appendError !== null) return;
    await this.#syncTable(gen);
    const chunk = gen.chunk as DuckDBDataChunk;
    const appender = gen.appender as DuckDBAppender;
    try {
      this.#encoder.encode(chunk.chunk, gen.builder.columns, sealed);
      appender.appendDataChunk(chunk);
    } finally {
      chunk.reset();
      gen.builder.recycle(sealed);
    }
    if (++gen.chunksSinceFlush >= CHUNKS_PER_APPENDER_FLUSH) {
      // Rows in the appender's own buffer cannot spill; in the table they can.
      appender.flushSync();
      gen.chunksSinceFlush = 0;
    }
  }

  /**
   * Makes the buffer table match the builder's columns: created at the first chunk, a column added
   * when a field first appears, a typed raw column widened when its values disagree (the appender
   * is closed first: its column list is fixed).
   */
  async #syncTable(gen: Generation): Promise<void> {
    const connection = this.#appendConnection;
    if (connection === null) throw new SinkUnavailableError('lake writer is not started');
    const columns = gen.builder.columns;
    const table = quoteIdent(gen.table);
    if (!gen.tableCreated) {
      const defs = columns.map((c) => `${quoteIdent(c.name)} ${bufferSqlType(c.kind)}`);
      await connection.run(`CREATE TABLE ${table} (${defs.join(', ')})`);
      for (const c of columns) c.tableKind = c.kind;
      gen.tableCreated = true;
    }
    const added = columns.filter((c) => c.tableKind === null);
    const widened = columns.filter((c) => c.tableKind !== null && c.tableKind !== c.kind);
    if (added.length > 0 || widened.length > 0) {
      closeAppender(gen);
      for (const c of added) {
        await connection.run(
          `ALTER TABLE ${table} ADD COLUMN ${quoteIdent(c.name)} ${bufferSqlType(c.kind)}`,
        );
        c.tableKind = c.kind;
      }
      for (const c of widened) await connection.run(widenSql(table, c));
    }
    if (gen.appender === null) {
      gen.appender = await connection.createAppender(gen.table);
      gen.chunk = DuckDBDataChunk.create(chunkTypes(columns));
    }
  }

  #flushReason(gen: Generation): FlushReason | null {
    const { flushEventCount, flushBufferBytes } = this.#options;
    if (flushEventCount > 0 && gen.count >= flushEventCount) return 'count';
    if (flushBufferBytes > 0 && gen.bytes >= flushBufferBytes) return 'size';
    return null;
  }

  #flushAged(): void {
    const now = Date.now();
    for (const buffer of this.#buffers.values()) {
      const gen = buffer.gen;
      if (gen.count > 0 && now - gen.startedAt >= this.#options.flushIntervalMs) {
        // Failures reach the writers through gen.durable; nothing to do here.
        this.#rotate(buffer, gen, 'interval').catch(() => {});
      }
    }
  }

  /** Takes a flush slot (waiting when all are busy: backpressure), then flushes `gen` in the background. */
  async #rotate(buffer: LogTypeBuffer, gen: Generation, reason: FlushReason): Promise<void> {
    await this.#slots.acquire();
    // Another writer may have rotated this generation while we waited for the slot.
    if (buffer.gen !== gen || gen.count === 0) {
      this.#slots.release();
      return;
    }
    buffer.gen = this.#newGeneration();
    this.#bufferedBytes -= gen.bytes;
    const flushing = this.#flushGeneration(buffer, gen, reason).finally(() => {
      this.#slots.release();
      this.#inflight.delete(flushing);
    });
    this.#inflight.add(flushing);
  }

  /** The buffers together passed the budget: the largest one is flushed (reason `size`). */
  async #rotateLargest(): Promise<void> {
    let largest: LogTypeBuffer | null = null;
    for (const b of this.#buffers.values())
      if (largest === null || b.gen.bytes > largest.gen.bytes) largest = b;
    if (largest !== null && largest.gen.count > 0) await this.#rotate(largest, largest.gen, 'size');
  }

  async #flushGeneration(buffer: LogTypeBuffer, gen: Generation, reason: FlushReason): Promise<void> {
    const started = performance.now();
    const { telemetry, logger } = this.#options;
    try {
      // The last, partial chunk; then the appender is closed so every row is in the table.
      if (gen.builder.rows > 0) this.#seal(gen);
      await this.#enqueue(() => closeAppender(gen));
      if (gen.appendError !== null) throw gen.appendError;
      let bytes = 0;
      for (const bucket of [...gen.buckets].sort((a, b) => a - b)) {
        bytes += await this.#writeFileRetrying(buffer, bucket, gen);
        gen.buckets.delete(bucket);
      }
      telemetry?.flushes.inc({ sink: this.#sink, reason });
      telemetry?.flushDuration.observe({ sink: this.#sink }, (performance.now() - started) / 1000);
      telemetry?.flushBytes.inc({ sink: this.#sink }, bytes);
      telemetry?.eventsOut.inc({ sink: this.#sink, log_type: buffer.logType }, gen.count);
      logger.debug({ log_type: buffer.logType, events: gen.count, bytes, reason }, 'lake flush');
      this.#reportCoerced(buffer.logType);
      gen.resolve();
    } catch (err) {
      logger.error({ err, log_type: buffer.logType, events: gen.count }, 'lake flush failed');
      gen.reject(new SinkUnavailableError(`lake flush of ${buffer.logType} failed`, { cause: err }));
    } finally {
      await this.#enqueue(() => this.#dropTable(gen)).catch((err) =>
        logger.warn({ err, table: gen.table }, 'lake buffer table not dropped'),
      );
    }
  }

  /** One warning per flush for values written as NULL because their type did not fit. */
  #reportCoerced(logType: string): void {
    const coerced = this.#encoder.coercedToNull;
    if (coerced === 0) return;
    this.#encoder.coercedToNull = 0;
    this.#options.logger.warn(
      { log_type: logType, values: coerced },
      'lake: values of the wrong type for their column written as NULL (the raw column keeps them)',
    );
  }

  async #dropTable(gen: Generation): Promise<void> {
    closeAppender(gen);
    if (gen.tableCreated && this.#appendConnection !== null) {
      await this.#appendConnection.run(`DROP TABLE IF EXISTS ${quoteIdent(gen.table)}`);
    }
    gen.tableCreated = false;
  }

  /**
   * A failed file is retried; files of the same flush already renamed are not written again.
   * Storage full: retried with backoff until it goes through or the writer stops (the writer is
   * blocked meanwhile). Anything else: two retries (200 ms, 1 s), then the flush fails, the writers'
   * promises reject, and nothing of the batch is acknowledged.
   */
  async #writeFileRetrying(buffer: LogTypeBuffer, bucket: number, gen: Generation): Promise<number> {
    const { logger, telemetry } = this.#options;
    const maxDelay = this.#options.blockedRetryMaxMs ?? DEFAULT_BLOCKED_RETRY_MAX_MS;
    let blocked = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#writeFile(buffer, bucket, gen);
        } catch (err) {
          telemetry?.sinkErrors.inc({ sink: this.#sink });
          const signal = this.#stopping.signal;
          if (isStorageFull(err) && !signal.aborted) {
            if (!blocked) {
              blocked = true;
              this.#enterBlocked();
            }
            const delay = Math.min(maxDelay, BLOCKED_FIRST_DELAY_MS * 2 ** Math.min(attempt - 1, 20));
            logger.warn(
              { err, log_type: buffer.logType, events: gen.count, attempt, retry_in_ms: delay },
              'lake storage full: flush blocked, retrying (records stay uncommitted)',
            );
            await sleep(delay, undefined, { signal }).catch(() => {});
            continue;
          }
          if (blocked || attempt > RETRY_DELAYS_MS.length) throw err;
          logger.warn({ err, log_type: buffer.logType, attempt }, 'lake file write failed, retrying');
          await sleep(RETRY_DELAYS_MS[attempt - 1]);
        }
      }
    } finally {
      if (blocked) this.#leaveBlocked(buffer.logType);
    }
  }

  #enterBlocked(): void {
    if (this.#blockedFlushes++ === 0) {
      this.#blockedSince = Date.now();
      this.#options.telemetry?.sinkBlocked.set({ sink: this.#sink }, 1);
    }
  }

  #leaveBlocked(logType: string): void {
    if (--this.#blockedFlushes > 0) return;
    const since = this.#blockedSince ?? Date.now();
    const seconds = (Date.now() - since) / 1000;
    this.#blockedSince = null;
    this.#options.telemetry?.sinkBlocked.set({ sink: this.#sink }, 0);
    this.#options.telemetry?.sinkBlockedSeconds.inc({ sink: this.#sink }, seconds);
    this.#options.logger.warn(
      {
        log_type: logType,
        blocked_s: Math.round(seconds * 10) / 10,
        stopping: this.#stopping.signal.aborted,
      },
      this.#stopping.signal.aborted
        ? 'lake blocked until stop'
        : 'lake storage writable again: flush went through',
    );
    const waiters = this.#unblocked;
    this.#unblocked = null;
    waiters?.resolve();
  }

  /** The lake directory and the schema record (again after a disk-full start). */
  async #prepare(): Promise<void> {
    await mkdir(this.#options.dir, { recursive: true });
    await recordSchema(this.#options.dir, this.#schema, this.#options.typedRawColumns);
    await mkdir(this.#stagingDir, { recursive: true });
    this.#prepared = true;
  }

  /**
   * The COPY of one hour bucket of a buffer table into one Parquet file: the lake's full layout
   * (typed NULLs for the columns the buffer never had), then typed raw columns, one row per id.
   */
  #copySql(gen: Generation, bucket: number, targetPath: string): string {
    const have = new Set(gen.builder.columns.map((c) => c.name));
    const select: string[] = [];
    for (const c of this.#schema.columns) {
      const name = quoteIdent(c.name);
      select.push(have.has(c.name) ? name : `NULL::${DUCKDB_TYPE[c.kind]} AS ${name}`);
    }
    for (const c of gen.builder.columns) {
      if (c.name !== BUCKET_COLUMN && !this.#schemaNames.has(c.name)) select.push(quoteIdent(c.name));
    }
    const table = quoteIdent(gen.table);
    const inBucket = `${quoteIdent(BUCKET_COLUMN)} = ${bucket}`;
    // A replayed batch carries the same ids again: one row per id in a file (the first appended).
    const firstPerId = `rowid IN (SELECT min(rowid) FROM ${table} WHERE ${inBucket} GROUP BY id)`;
    return (
      `COPY (SELECT ${select.join(', ')} FROM ${table} WHERE ${inBucket} AND ${firstPerId}) ` +
      `TO ${sqlString(targetPath)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE_BYTES ${this.#rowGroupBytes})`
    );
  }

  /**
   * Writes one partition's file: buffer table rows of the bucket → temp Parquet → fsync → rename.
   * Returns its bytes. A failed attempt removes its temp Parquet; the buffer table stays for the
   * next attempt (it is dropped once the flush succeeded or failed for good).
   */
  async #writeFile(buffer: LogTypeBuffer, bucket: number, gen: Generation): Promise<number> {
    if (this.#instance === null) throw new SinkUnavailableError('lake writer is not started');
    const done = gen.renamed.get(bucket);
    if (done !== undefined) return this.#syncRenamed(done);
    if (!this.#prepared) await this.#prepare();
    let partition = this.#partitionPaths.get(bucket);
    if (partition === undefined) {
      partition = partitionPath(bucket);
      this.#partitionPaths.set(bucket, partition);
    }
    const dir = join(this.#options.dir, buffer.dirName, partition);
    await mkdir(dir, { recursive: true });
    const unique = `${Date.now()}_${randomBytes(5).toString('hex')}_${++this.#fileCounter}`;
    const name = `events_${buffer.dirName}_${unique}.parquet`;
    const tempPath = join(dir, `.${name}.tmp`);
    let connection: DuckDBConnection | null = null;
    try {
      connection = await this.#instance.connect();
      await connection.run(this.#copySql(gen, bucket, tempPath));
      await fsyncPath(tempPath);
      await rename(tempPath, join(dir, name));
      gen.renamed.set(bucket, join(dir, name));
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    } finally {
      connection?.closeSync();
    }
    return this.#syncRenamed(join(dir, name));
  }

  /** fsyncs a renamed file's directory (so the rename survives a crash); returns the file's bytes. */
  async #syncRenamed(path: string): Promise<number> {
    await fsyncPath(dirname(path));
    return (await stat(path)).size;
  }

  /** Removes staging dirs and temp Parquet files a crashed writer left (older than 10 minutes). */
  async #sweepStaleStaging(): Promise<void> {
    const staging = join(this.#options.dir, '.staging');
    const entries = await readdir(staging, { withFileTypes: true }).catch(() => []);
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const entry of entries) {
      const path = join(staging, entry.name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  }
}

/** Closes a generation's appender (its buffered rows go into the table) and its chunk. */
function closeAppender(gen: Generation): void {
  gen.appender?.closeSync();
  gen.appender = null;
  gen.chunk = null;
  gen.chunksSinceFlush = 0;
}

/** Widens a typed raw column of a buffer table: integer → DOUBLE, anything else → JSON text. */
function widenSql(table: string, column: BufferColumn): string {
  const name = quoteIdent(column.name);
  const using =
    column.kind === 'json' ? `to_json(${name})::VARCHAR` : `${name}::${bufferSqlType(column.kind)}`;
  column.tableKind = column.kind;
  return `ALTER TABLE ${table} ALTER COLUMN ${name} SET DATA TYPE ${bufferSqlType(column.kind)} USING ${using}`;
}
