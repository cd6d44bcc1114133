/**
 * One member of a Kafka consumer group as a Subscription (src/bus/bus.ts): batches drained from
 * @platformatic/kafka's message stream, commits only through commit()/commitOffsets(), a clean
 * leave on close(). Created by KafkaBus.subscribe (src/bus/kafka.ts).
 */
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { backoffMs } from './backoff.ts';
import type {
  CommitOffsets,
  ConsumedBatch,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
} from './bus.ts';

export const DEFAULT_MAX_BATCH_RECORDS = 1000;
const DEFAULT_MAX_WAIT_MS = 100;
const CLOSE_ATTEMPTS = 5;

type Buf = Buffer;
type KafkaConsumer = Consumer<Buf, Buf, Buf, Buf>;
type KafkaMessage = Message<Buf, Buf, Buf, Buf>;

function toHeaders(message: KafkaMessage): Record<string, string> | undefined {
  if (message.headers.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of message.headers) out[k.toString('utf8')] = v.toString('utf8');
  return out;
}

function toRecord(message: KafkaMessage): ConsumedRecord {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === undefined || message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: toHeaders(message),
    timestamp: Number(message.timestamp),
  };
}

export class KafkaSubscription implements Subscription {
  private readonly consumer: KafkaConsumer;
  private readonly stream: MessagesStream<Buf, Buf, Buf, Buf>;
  private readonly maxBatchRecords: number;
  private readonly maxWaitMs: number;
  /** The last message per partition of each batch handed out, for its leader epoch on commit. */
  private readonly lastOfBatch = new WeakMap<ConsumedBatch, KafkaMessage[]>();
  private closed = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private inflightCommit: Promise<void> | null = null;
  private readonly group: string;

  constructor(
    consumer: KafkaConsumer,
    stream: MessagesStream<Buf, Buf, Buf, Buf>,
    options: SubscribeOptions,
  ) {
    this.consumer = consumer;
    this.stream = stream;
    this.group = options.group;
    this.maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    const poke = () => this.wake?.();
    stream.on('readable', poke);
    stream.on('close', poke);
    stream.on('error', (error: Error) => {
      this.failure = error;
      poke();
    });
  }

  assignments(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const a of this.consumer.assignments ?? [])
      for (const p of a.partitions) out.push({ topic: a.topic, partition: p });
    return out;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Drains what the stream has buffered; waits up to maxWaitMs to fill a batch once it has one record. */
  async next(): Promise<IteratorResult<ConsumedBatch>> {
    const messages: KafkaMessage[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      if (this.failure) throw this.failure;
      // The client ends its stream only on close() or a fatal error: never end quietly.
      if (this.stream.destroyed)
        throw new Error(`Kafka consumer stream of group ${this.group} ended unexpectedly`);
      let message: KafkaMessage | null = this.stream.read();
      while (message !== null) {
        messages.push(message);
        if (messages.length >= this.maxBatchRecords) break;
        message = this.stream.read();
      }
      if (messages.length > 0 && deadline === Number.POSITIVE_INFINITY)
        deadline = Date.now() + this.maxWaitMs;
      if (messages.length >= this.maxBatchRecords || (messages.length > 0 && Date.now() >= deadline)) break;
      await this.sleep(messages.length > 0 ? Math.max(1, deadline - Date.now()) : 1000);
    }
    const batch: ConsumedBatch = { records: messages.map(toRecord) };
    const last = new Map<string, KafkaMessage>();
    for (const m of messages) last.set(`${m.topic}\u0000${m.partition}`, m);
    this.lastOfBatch.set(batch, [...last.values()]);
    return { done: false, value: batch };
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumedBatch> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async commit(batch: ConsumedBatch): Promise<void> {
    const last = this.lastOfBatch.get(batch);
    if (last === undefined) throw new Error('commit(batch): the batch did not come from this subscription');
    if (last.length === 0) return;
    await this.commitRaw({
      offsets: last.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset + 1n,
        leaderEpoch: m.leaderEpoch,
      })),
    });
  }

  async commitOffsets(offsets: CommitOffsets): Promise<void> {
    if (offsets.length === 0) return;
    // leaderEpoch -1: unknown, the broker skips the fencing check.
    await this.commitRaw({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /**
   * After close() a commit is moot: this member left the group and the new owners re-read from the
   * last commit. A commit racing with close() fails with "connection closed"; that is not an error.
   */
  private async commitRaw(options: Parameters<KafkaConsumer['commit']>[0]): Promise<void> {
    if (this.closed) return;
    const commit = this.consumer.commit(options);
    this.inflightCommit = commit.catch(() => {});
    try {
      await commit;
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    // A commit failing on a closed consumer makes the client rejoin the group; let it land first.
    await this.inflightCommit;
    await this.stream.close().catch(() => {});
    // @platformatic/kafka 2.12.1: close() alone leaves the member flagged active, so a join that
    // completes during close() starts heartbeating on the closed client, forever (a timer that keeps
    // the process alive). leaveGroup() clears the flag first; close() then only closes connections.
    // (its typings pick the callback overload for leaveGroup(true); without a callback it returns a promise)
    await (this.consumer.leaveGroup(true) as unknown as Promise<void>).catch(() => {});
    // Leaves the group: the remaining members take over this member's partitions at once. When
    // LeaveGroup fails (a coordinator move, a rebalance in flight) the client stays open and keeps
    // its timers, so try again rather than leak a half-closed member.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.consumer.close(true);
        return;
      } catch (error) {
        if (attempt >= CLOSE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
      }
    }
  }
}
