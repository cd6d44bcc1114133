/**
 * Acks can arrive out of order (sinks finish batches in parallel), but a checkpoint or a Kafka
 * commit may only move to the end of the longest acked prefix: committing past an unacked batch
 * would lose it on a crash. This tracks batches in hand-out order and reports that prefix.
 */
export interface AckEntry<T> {
  readonly value: T;
  done: boolean;
}

export class ContiguousAcks<T> {
  #pending: AckEntry<T>[] = [];
  #head = 0;

  get size(): number {
    return this.#pending.length - this.#head;
  }

  add(value: T): AckEntry<T> {
    const entry = { value, done: false };
    this.#pending.push(entry);
    return entry;
  }

  /**
   * Marks `entry` acked; returns the values that became part of the acked prefix, oldest first
   * (empty when an earlier batch is still outstanding). Acking twice is harmless.
   */
  ack(entry: AckEntry<T>): T[] {
    entry.done = true;
    const released: T[] = [];
    while (this.#head < this.#pending.length && this.#pending[this.#head].done) {
      released.push(this.#pending[this.#head].value);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    return released;
  }

  /** Forgets every outstanding entry (a truncated file: its old batches no longer matter). */
  clear(): void {
    for (let i = this.#head; i < this.#pending.length; i++) this.#pending[i].done = true;
    this.#pending = [];
    this.#head = 0;
  }
}
