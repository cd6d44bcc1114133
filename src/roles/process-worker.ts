import { Worker } from 'node:worker_threads';
import type { BusRecord, ConsumedRecord } from '../core/bus.ts';
import { type Deferred, deferred } from '../core/deferred.ts';
import type { Envelope, Reject } from '../core/envelope.ts';
import { InternalError, SinkUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { MatchMessage } from '../detect/matches.ts';
import type { RoleLake } from './durable-loop.ts';
import { packBatch, unpackRecords } from './process-worker-codec.ts';
import type { ToMain, ToWorker, WorkerInit } from './process-worker-protocol.ts';
import { applyMetricOps } from './process-worker-telemetry.ts';

/**
 * The process role's second core (`process.workers: 1`): a worker thread that does the role's CPU
 * work — parse → normalize → enrich → single-event match, the lake's columns, the DuckDB appends
 * and flushes (the lake is the worker's own) — while the role's thread keeps the consumer, the
 * commits (after the worker says a batch is durable, in order: durable-loop.ts), and publishing
 * matches and dead letters.
 *
 * What crosses: a consumed batch's raw values in one transferred buffer (process-worker-codec.ts);
 * back come the batch's matches, rejects and event counts (small), then, once its events are in
 * renamed Parquet files, a `durable` for the batch. Envelopes come back only when something on the
 * role's thread reads them (the serve role's live tail, event routes).
 *
 * A worker that dies (an exception, out of its heap bound) fails every batch in flight and every
 * later one: nothing of theirs is committed, the role stops with the cause, and Kafka delivers
 * them again with the same ids.
 */
export interface ProcessWorkerOptions extends Omit<WorkerInit, 'config' | 'matchPartitions'> {
  config: unknown;
  logger: Logger;
  /** Where the worker's metrics are counted (the process's /metrics). */
  telemetry?: Telemetry;
  /** V8 old-generation bound of the worker's heap, in MB (config process.worker_heap_mb). */
  maxHeapMb: number;
}

/** What the worker gave for one batch, before its events are durable. */
export interface WorkerProcessed {
  matches: MatchMessage[];
  /** The matches records, encoded in the worker (encodeMatches). */
  matchRecords?: BusRecord[];
  rejects: Reject[];
  counts: Array<[string, string, number]>;
  envelopes?: Envelope[];
}

/** A batch handed to the worker: its results, then its durability. */
export interface WorkerBatch {
  processed: Promise<WorkerProcessed>;
  durable: Promise<void>;
}

/**
 * The worker's young generation, MB. V8's default let its heap grow to ~170 MB committed (of
 * ~60 MB used) in the seed bench; at 16 MB it stays ~60 MB and the whole process's peak RSS ~70 MB
 * lower, for the same CPU: the worker takes a batch in 512-record chunks, so its envelopes die
 * young (docs/benchmarks.md, "The second core").
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/** The worker thread's module, beside this one (sources: .ts; the build: .js). */
function threadUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./process-worker-thread${ext}`, import.meta.url);
}

export class ProcessWorker {
  readonly #options: ProcessWorkerOptions;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #processed = new Map<number, Deferred<WorkerProcessed>>();
  readonly #pending = new Map<number, Deferred<void>>();
  #ready: Deferred<void> | null = null;
  #failure: Error | null = null;
  #stopping = false;
  #blocked = false;
  #writable: Deferred<void> | null = null;
  /** Waiting for the worker's queue to shrink: [bound, deferred]. */
  #roomWaiters: Array<[number, Deferred<void>]> = [];
  readonly #failureListeners: Array<(err: Error) => void> = [];

  constructor(options: ProcessWorkerOptions) {
    this.#options = options;
  }

  /** Starts the thread; resolves once its engine, rules and lake are up. */
  async start(matchPartitions?: number): Promise<void> {
    const { logger, maxHeapMb, config, file, topics, detection, wantEnvelopes, encodeMatches } =
      this.#options;
    const init: WorkerInit = { config, file, topics, detection, wantEnvelopes, encodeMatches };
    if (matchPartitions !== undefined) init.matchPartitions = matchPartitions;
    this.#ready = deferred<void>();
    const worker = new Worker(threadUrl(), {
      workerData: init,
      resourceLimits: {
        maxOldGenerationSizeMb: maxHeapMb,
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
      },
      // The worker logs to fd 2 itself; its console goes to ours.
      stdout: false,
      stderr: false,
    });
    this.#worker = worker;
    worker.on('message', (m: ToMain) => this.#onMessage(m));
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => {
      if (!this.#stopping) this.#fail(new SinkUnavailableError(`process worker exited (code ${code})`));
    });
    await this.#ready.promise;
    logger.info({ max_heap_mb: maxHeapMb }, 'process worker started');
  }

  /** The thread (diagnostics, tests), or null when not running. */
  thread(): Worker | null {
    return this.#worker;
  }

  /** Why the worker is gone (null while it runs); set once. */
  failure(): Error | null {
    return this.#stopping ? null : this.#failure;
  }

  /** Called once when the worker dies (not when stopped). */
  onFailure(listener: (err: Error) => void): void {
    this.#failureListeners.push(listener);
  }

  /** Batches handed to the worker and not processed yet. */
  queued(): number {
    return this.#processed.size;
  }

  /** Resolves once fewer than `bound` batches wait in the worker (or it failed). */
  whenQueueBelow(bound: number): Promise<void> {
    if (this.#processed.size < bound || this.#failure) return Promise.resolve();
    const d = deferred<void>();
    this.#roomWaiters.push([bound, d]);
    return d.promise;
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0) return;
    const size = this.#processed.size;
    this.#roomWaiters = this.#roomWaiters.filter(([bound, d]) => {
      if (size >= bound && !this.#failure) return true;
      d.resolve();
      return false;
    });
  }

  /** Hands a batch to the worker (in consumption order). */
  submit(records: readonly ConsumedRecord[]): WorkerBatch {
    const processed = deferred<WorkerProcessed>();
    const durable = deferred<void>();
    // Observed by the caller; never an unhandled rejection here.
    processed.promise.catch(() => {});
    durable.promise.catch(() => {});
    if (this.#failure || this.#worker === null) {
      const err = this.#failure ?? new SinkUnavailableError('the process worker is not running');
      processed.reject(err);
      durable.reject(err);
      return { processed: processed.promise, durable: durable.promise };
    }
    const id = this.#nextId++;
    this.#processed.set(id, processed);
    this.#pending.set(id, durable);
    const { packed, transfer } = packBatch(records);
    this.#post({ type: 'batch', id, packed }, transfer);
    return { processed: processed.promise, durable: durable.promise };
  }

  /** The next batch is matched with the rules as their files hold them now. */
  reload(): void {
    if (this.#worker && !this.#failure) this.#post({ type: 'reload' });
  }

  /** Flushes the worker's lake and waits for every flush in flight. */
  flush(): Promise<void> {
    return this.#request('flush');
  }

  /** True while the worker's lake waits for its disk (full). */
  blocked(): boolean {
    return this.#blocked;
  }

  whenWritable(): Promise<void> {
    if (!this.#blocked || this.#failure) return Promise.resolve();
    this.#writable ??= deferred<void>();
    return this.#writable.promise;
  }

  /** Flushes and closes the worker's lake and enrichment, then ends the thread. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    if (!this.#failure) await this.#request('stop').catch(() => {});
    this.#stopping = true;
    this.#writable?.resolve();
    await worker.terminate();
    this.#worker = null;
    this.#fail(new SinkUnavailableError('the process worker stopped'));
  }

  /** The worker's lake, as the role's commit loop uses it (writes go through submit()). */
  lake(): RoleLake {
    return {
      start: async () => {},
      write: () => Promise.reject(new InternalError('the process worker writes its own lake')),
      flush: () => this.flush(),
      stop: () => this.stop(),
      blocked: () => this.blocked(),
      whenWritable: () => this.whenWritable(),
      healthcheck: async () =>
        this.#failure ? { ok: false, detail: this.#failure.message } : { ok: true, detail: 'process worker' },
    };
  }

  #request(type: 'flush' | 'stop'): Promise<void> {
    if (this.#failure || this.#worker === null)
      return Promise.reject(this.#failure ?? new SinkUnavailableError('the process worker is not running'));
    const id = this.#nextId++;
    const done = deferred<void>();
    this.#pending.set(id, done);
    this.#post({ type, id });
    return done.promise;
  }

  #post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker?.postMessage(message, transfer);
  }

  #onMessage(m: ToMain): void {
    switch (m.type) {
      case 'ready':
        this.#ready?.resolve();
        return;
      case 'fatal': {
        const err = new SinkUnavailableError(`process worker failed to start: ${m.message}`);
        this.#ready?.reject(err);
        this.#fail(err);
        // Nothing will use this thread: end it (a role that failed to start is not stopped).
        this.#stopping = true;
        void this.#worker?.terminate();
        this.#worker = null;
        return;
      }
      case 'processed': {
        const d = this.#processed.get(m.id);
        this.#processed.delete(m.id);
        const { matches, rejects, counts, envelopes } = m;
        const result: WorkerProcessed = { matches, rejects, counts };
        if (m.matchRecords) result.matchRecords = unpackRecords(m.matchRecords);
        if (envelopes) result.envelopes = envelopes;
        d?.resolve(result);
        this.#wakeRoomWaiters();
        return;
      }
      case 'durable':
      case 'done': {
        const d = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        d?.resolve();
        return;
      }
      case 'failed': {
        const d = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        d?.reject(new SinkUnavailableError(m.message));
        return;
      }
      case 'metrics':
        if (this.#options.telemetry) applyMetricOps(this.#options.telemetry, m.ops);
        return;
      case 'blocked':
        this.#blocked = m.blocked;
        if (!m.blocked) {
          this.#writable?.resolve();
          this.#writable = null;
        }
        return;
    }
  }

  /** The worker is gone: everything in flight fails (nothing of it is committed). */
  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    if (!this.#stopping) this.#options.logger.error({ err }, 'process worker failed: the role stops');
    this.#ready?.reject(err);
    this.#ready?.promise.catch(() => {});
    for (const d of this.#processed.values()) d.reject(err);
    for (const d of this.#pending.values()) d.reject(err);
    this.#processed.clear();
    this.#pending.clear();
    this.#wakeRoomWaiters();
    this.#blocked = false;
    this.#writable?.resolve();
    this.#writable = null;
    if (!this.#stopping) for (const listener of this.#failureListeners) listener(err);
  }
}
