import { InternalError } from '../core/errors.ts';
/**
 * Batches in flight, finished in the order they started. The process and ingest roles publish a
 * batch without waiting for its acks and go on with the next one; each batch's `finish` step (the
 * consumer commit, the source ack) runs only after its own publishes were acked AND every earlier
 * batch finished, so an offset is never committed past a record whose results are not durable.
 * At most `limit` batches are pending at once (memory bound): add() waits for room.
 *
 * The first failure stops everything behind it (no later batch finishes) and is reported once
 * through `onFailure`; add() and flush() throw it from then on.
 */
export class InOrderWindow {
  private readonly limit: number;
  private readonly onFailure: ((error: unknown) => void) | undefined;
  /** Completion (success or failure) of each pending batch, oldest first. */
  private readonly pending: Array<Promise<void>> = [];
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(limit: number, onFailure?: (error: unknown) => void) {
    if (!(limit >= 1)) throw new InternalError(`in-flight limit must be at least 1, got ${limit}`);
    this.limit = limit;
    this.onFailure = onFailure;
  }

  /** Batches started and not finished yet. */
  get size(): number {
    return this.pending.length;
  }

  /** Waits for room, then queues the batch: `finish` runs once `done` resolved and every earlier batch finished. */
  async add(done: Promise<void>, finish: () => Promise<void> | void): Promise<void> {
    // The chain below reaches `done` only when the batches before it finished: handle a rejection
    // now so an early failure is not reported as unhandled in the meantime.
    done.catch(() => {});
    this.throwIfFailed();
    while (this.pending.length >= this.limit) {
      await this.pending[0];
      this.throwIfFailed();
    }
    const step = this.tail.then(() => done).then(finish);
    this.tail = step;
    const settled = step.then(
      () => {},
      (error: unknown) => {
        if (this.failure) return;
        this.failure = { error };
        this.onFailure?.(error);
      },
    );
    this.pending.push(settled);
    // Steps settle in order (each waits for the one before), so the oldest leaves first.
    void settled.then(() => this.pending.shift());
  }

  /** Resolves once every batch added so far finished; throws the first failure. */
  async flush(): Promise<void> {
    await this.tail.catch(() => {});
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
