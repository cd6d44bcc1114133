import type { ConsumedBatch, ConsumedRecord, Subscription } from '../core/bus.ts';
import type { ComponentContext, Sink } from '../core/component.ts';
import { SinkUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { lastPerPartition } from './codec.ts';

/**
 * The consume loop of a role that commits only what is durable (the process role's one pass, the
 * store role): every consumed batch is handed on at once, and its commit is chained behind its own
 * writes *and* the commit of the batch before it, so commits go out in consumption order although
 * the lake completes batches whenever a flush condition fires. Several batches are in flight at
 * once; `maxInFlightRecords` bounds them: at the bound the loop forces a lake flush and waits for
 * the commits. A crash loses only uncommitted work, which the bus delivers again with the same ids.
 *
 * Disk full: the lake blocks (sinks/parquet/writer.ts) instead of failing; the loop then stops
 * pulling batches (nothing new is buffered, the lag grows, nothing is committed) and goes on by
 * itself once the lake is writable again: no restart, no loss.
 */

/** The lake as a role uses it; a LakeSink adds disk-full backpressure. */
export type RoleLake = Sink & { blocked?(): boolean; whenWritable?(): Promise<void> };

export interface DurableLoopOptions {
  /** Metric label of the role (`socstream_buffer_fill{stage}`) and its log component. */
  stage: string;
  ctx: Pick<ComponentContext, 'telemetry'> & { logger: Logger };
  lake?: RoleLake;
  maxInFlightRecords: number;
  /** Starts every write a batch needs; resolves once all are durable or acked. */
  handOn(batch: ConsumedBatch): Promise<unknown>;
}

export class DurableLoop {
  readonly #options: DurableLoopOptions;
  /** Resolves once every batch handed on so far is committed; rejects on the first failure. */
  #commits: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #failure: Error | null = null;
  #stopping = false;
  #subscription: Subscription | undefined;

  constructor(options: DurableLoopOptions) {
    this.#options = options;
  }

  /** Consumes until the subscription ends or stop() is asked; throws the first commit failure. */
  async consume(sub: Subscription): Promise<void> {
    this.#subscription = sub;
    const { lake, maxInFlightRecords } = this.#options;
    for await (const batch of sub) {
      if (this.#failure) break;
      // A batch that arrives while the lake is blocked is held here, not handed on (the one batch
      // held beyond what was in flight); stopping drops it uncommitted.
      if (this.#lakeBlocked()) await this.#waitForLake();
      if (this.#stopping) break;
      this.#commitAfter(this.#options.handOn(batch), batch, sub);
      if (this.#lakeBlocked()) await this.#waitForLake();
      if (this.#inFlight >= maxInFlightRecords && !this.#stopping) {
        // Bounded memory, and no deadlock: the held batches may all wait on one flush condition.
        await lake?.flush();
        await this.#commits.catch(() => {});
      }
      if (this.#stopping) break;
    }
    if (this.#failure) {
      const failure = this.#failure as Error;
      throw new SinkUnavailableError(`${this.#options.stage} role stopped: ${failure.message}`, {
        cause: failure,
      });
    }
  }

  /** Flushes what the lake buffers now (draining at shutdown). A no-op while the lake is blocked. */
  async flush(): Promise<void> {
    const { lake } = this.#options;
    if (!lake || lake.blocked?.()) return;
    await lake.flush();
  }

  /**
   * Ends the loop: the lake is flushed (or, when blocked, stopped: flushing would wait for disk
   * space) and the commits waited for, each for at most `boundMs` — with the broker gone they
   * would wait out the client's retries, and what is not committed is delivered again anyway.
   * Returns whether the lake was stopped here.
   */
  async stop(boundMs: number): Promise<{ lakeStopped: boolean }> {
    this.#stopping = true;
    const { lake, ctx } = this.#options;
    let lakeStopped = false;
    if (lake?.blocked?.()) {
      ctx.logger.warn(
        { in_flight: this.#inFlight },
        'stopping with the lake blocked: uncommitted records are replayed',
      );
      await lake.stop();
      lakeStopped = true;
    } else if (lake) {
      const flushed = lake.flush().catch((err) => ctx.logger.error({ err }, 'final lake flush failed'));
      await bounded(flushed, boundMs);
    }
    await bounded(this.#commits, boundMs);
    return { lakeStopped };
  }

  #lakeBlocked(): boolean {
    return this.#options.lake?.blocked?.() === true && !this.#stopping;
  }

  #fill(): void {
    const { telemetry } = this.#options.ctx;
    telemetry.bufferFill.set(
      { stage: this.#options.stage },
      Math.min(1, this.#inFlight / this.#options.maxInFlightRecords),
    );
  }

  #commitAfter(done: Promise<unknown>, batch: ConsumedBatch, sub: Subscription): void {
    done.catch(() => {}); // observed through the chain below
    const records = batch.records.length;
    // The commit needs only each partition's last position: let the records and their bytes go
    // while the batch waits for the lake (a Kafka record's value is a slice of its whole fetch
    // response: keeping one kept the response).
    batch.records = lastPerPartition(batch.records).map(positionOnly);
    this.#inFlight += records;
    this.#fill();
    this.#commits = this.#commits
      .then(() => done)
      .then(() => sub.commit(batch))
      .then(() => {
        this.#inFlight -= records;
        this.#fill();
      });
    this.#commits.catch((err: Error) => {
      if (this.#failure) return;
      this.#failure = err;
      // The loop may be waiting for a batch that never comes: leaving the group ends the
      // iteration (the role fails; what is uncommitted is consumed again). Not a Promise.race
      // against a long-lived promise: every race left a reaction on it holding its batch.
      void this.#subscription?.close().catch(() => {});
    });
  }

  /** Backpressure: no next batch is pulled until the lake takes data again (or the role stops). */
  async #waitForLake(): Promise<void> {
    const { ctx, lake, stage } = this.#options;
    const t0 = Date.now();
    ctx.logger.warn(
      { in_flight: this.#inFlight },
      'lake blocked (storage full): consumption paused, nothing committed',
    );
    ctx.telemetry.bufferFill.set({ stage }, 1);
    await lake?.whenWritable?.();
    ctx.logger.warn(
      { in_flight: this.#inFlight, paused_s: Math.round((Date.now() - t0) / 100) / 10 },
      this.#stopping ? 'stopping while the lake is blocked' : 'lake writable again: consumption resumed',
    );
  }
}

const NO_BYTES = new Uint8Array(0);

/** A consumed record reduced to its position (what a commit reads). */
function positionOnly(r: ConsumedRecord): ConsumedRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: null,
    value: NO_BYTES,
    timestamp: r.timestamp,
  };
}

async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
