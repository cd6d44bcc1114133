import type { SourceBatch } from '../core/component.ts';

/**
 * The bounded hand-off between a push source (http, syslog) and the pipeline that pulls
 * `batches()`. Capacity is in records. When it is full the source applies backpressure its own
 * way: http answers 429, syslog TCP pauses the socket, syslog UDP drops and counts.
 */
export class BatchQueue {
  readonly capacityRecords: number;
  #items: SourceBatch[] = [];
  #records = 0;
  #closed = false;
  #wakeReader: (() => void) | null = null;
  #spaceWaiters: Array<() => void> = [];

  constructor(capacityRecords: number) {
    this.capacityRecords = capacityRecords;
  }

  get queuedRecords(): number {
    return this.#records;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether `records` more fit. An empty queue always takes a batch, however large. */
  hasRoom(records: number): boolean {
    return this.#records === 0 || this.#records + records <= this.capacityRecords;
  }

  /** Queues the batch unless that would exceed capacity; false means "apply backpressure". */
  offer(batch: SourceBatch): boolean {
    if (this.#closed || !this.hasRoom(batch.records.length)) return false;
    this.#items.push(batch);
    this.#records += batch.records.length;
    this.#wakeReader?.();
    return true;
  }

  /** Resolves when at least `records` fit (or the queue closed). */
  waitForRoom(records: number): Promise<void> {
    if (this.#closed || this.hasRoom(records)) return Promise.resolve();
    return new Promise((resolve) => this.#spaceWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#wakeReader?.();
    for (const w of this.#spaceWaiters.splice(0)) w();
  }

  /** Yields queued batches until closed and empty. */
  async *drain(): AsyncGenerator<SourceBatch> {
    while (true) {
      const batch = this.#items.shift();
      if (batch) {
        this.#records -= batch.records.length;
        if (this.#spaceWaiters.length) for (const w of this.#spaceWaiters.splice(0)) w();
        yield batch;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#wakeReader = resolve;
      });
      this.#wakeReader = null;
    }
  }
}
