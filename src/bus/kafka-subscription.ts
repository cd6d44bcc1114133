/**
 * One member of a Kafka consumer group as a Subscription (src/core/bus.ts): batches drained from
 * @platformatic/kafka's message stream, commits only through commit()/commitOffsets(), a clean
 * leave on close(). Created by KafkaBus.subscribe (src/bus/kafka.ts).
 *
 * Ownership fencing (issue 9). @platformatic/kafka 2.12.1 keeps what its stream has buffered across
 * a rebalance (one fetch brings up to 50 MB: tens of thousands of records) and, when a commit fails
 * with a rebalance error, rejoins and sends the commit again under the new generation. So without
 * a fence a member hands out records of partitions it no longer owns and commits them, rewinding
 * the group's offset under the new owner; and at every rejoin its stream re-reads from the
 * committed offset behind records it already buffered, so the same records come out twice and a
 * late commit of an old batch lands after a newer one. Measured with two members and a third
 * joining while a SIGKILLed one's session was alive: committed offsets went back and forth and the
 * group's lag never reached 0 (test/integration/kafka-rejoin.test.ts). Java's consumer discards
 * fetched data of revoked partitions and fences commits by generation; this class does the same
 * from the outside:
 * - a record is handed out only if its partition is assigned to this member now, it was fetched in
 *   the generation that (re)gave the partition to this member or later, and its offset is past the
 *   last one handed out for that partition in this ownership period (the stream re-reads from the
 *   committed offset after every rejoin: those records were handed out already);
 * - a commit only covers partitions still owned in the same ownership period as the batch, and
 *   only moves forward.
 * Nothing is lost by dropping: the partition's next owner (or this member again) reads from the
 * group's committed offset, which never passes a record that was not processed.
 *
 * Leader changes (issue 18). On a cluster, a fetch sent on stale metadata to a broker that lost
 * the leadership, or that just restarted as a follower behind this member's position, answers
 * FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER or OFFSET_OUT_OF_RANGE. The client recovers a
 * response made only of OFFSET_OUT_OF_RANGE but destroys its stream on a mix of them (seen when a
 * SIGKILLed leader came back). Such a failure is not the role's: the member opens a new stream
 * (a rejoin, reading from the committed offsets; the fence above skips what was handed out).
 */
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import type {
  CommitOffsets,
  ConsumedBatch,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
} from '../core/bus.ts';
import { InternalError, KafkaFailedError } from '../core/errors.ts';
import { backoffMs } from './backoff.ts';

export const DEFAULT_MAX_BATCH_RECORDS = 1000;
const DEFAULT_MAX_WAIT_MS = 100;
const CLOSE_ATTEMPTS = 5;
/** While idle, committed offsets are sent again this often (see reassertCommits). */
const REASSERT_IDLE_MS = 2000;
/** Errors of a partition whose leader moved: the data is there, the member asked the wrong broker. */
const LEADER_MOVED = new Set([
  'OFFSET_OUT_OF_RANGE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
]);
/** Streams reopened in a row without a record in between before the failure is the role's. */
const MAX_REOPENS = 20;

/** Whether a stream error is only partitions whose leader moved (every error it aggregates). */
export function leaderMoved(error: unknown): boolean {
  const inner = (error as { errors?: unknown[] }).errors;
  const all = Array.isArray(inner) && inner.length > 0 ? inner : [error];
  return all.every((e) => {
    const { apiId, hasStaleMetadata } = e as { apiId?: unknown; hasStaleMetadata?: unknown };
    return hasStaleMetadata === true || (typeof apiId === 'string' && LEADER_MOVED.has(apiId));
  });
}

type Buf = Buffer;
type KafkaConsumer = Consumer<Buf, Buf, Buf, Buf>;
type KafkaMessage = Message<Buf, Buf, Buf, Buf>;

/** One period during which this member owns a partition (from a join that gave it to the one that took it). */
interface Ownership {
  topic: string;
  partition: number;
  period: number;
  /** The generation of the join that gave the partition: records fetched earlier are stale. */
  sinceGeneration: number;
  /** Next offset to hand out: records below it were handed out in this period already. */
  nextOffset: bigint;
  /** Highest offset committed in this period: commits only move forward. */
  committed: bigint;
}

/**
 * What a commit needs of a batch's last record per partition: its position and leader epoch, not
 * the message (whose key and value are slices of the fetch response: an uncommitted batch that
 * held its messages kept whole 8 MiB responses alive while the lake buffered).
 */
interface HandedOut {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  period: number;
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function generationOf(message: KafkaMessage): number {
  const consumer = (message.metadata as { consumer?: { generationId?: unknown } } | undefined)?.consumer;
  return typeof consumer?.generationId === 'number' ? consumer.generationId : 0;
}

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
  private stream: MessagesStream<Buf, Buf, Buf, Buf>;
  /** Opens a new stream on the same member after a leader change (KafkaBus.subscribe). */
  private readonly reopen: (() => Promise<MessagesStream<Buf, Buf, Buf, Buf>>) | undefined;
  /** Streams reopened after a leader change, in all and in a row; for tests and logs. */
  readonly reopens = { total: 0, inARow: 0 };
  private readonly maxBatchRecords: number;
  private readonly maxWaitMs: number;
  /** The last message per partition of each batch handed out, for its leader epoch on commit. */
  private readonly lastOfBatch = new WeakMap<ConsumedBatch, HandedOut[]>();
  /** The partitions this member owns, by partitionKey, updated at every completed (re)join. */
  private readonly owned = new Map<string, Ownership>();
  private ownershipPeriods = 0;
  private joins = 0;
  /** Records read from the stream and not handed out (see the class comment), for tests and logs. */
  readonly skipped = { notOwned: 0, alreadyHandedOut: 0, staleFetch: 0, commitsNotOwned: 0 };
  private closed = false;
  private commitsInFlight = 0;
  private lastReassertMs = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private inflightCommit: Promise<void> | null = null;
  private readonly group: string;

  constructor(
    consumer: KafkaConsumer,
    stream: MessagesStream<Buf, Buf, Buf, Buf>,
    options: SubscribeOptions,
    reopen?: () => Promise<MessagesStream<Buf, Buf, Buf, Buf>>,
  ) {
    this.consumer = consumer;
    this.stream = stream;
    this.reopen = reopen;
    this.group = options.group;
    this.maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.updateOwnership(consumer.assignments ?? []);
    // Emitted by the client at the end of every JoinGroup/SyncGroup round, with the new assignment.
    consumer.on('consumer:group:join', (event: { assignments?: KafkaConsumer['assignments'] }) =>
      this.updateOwnership(event.assignments ?? consumer.assignments ?? []),
    );
    this.listen(stream);
  }

  private listen(stream: MessagesStream<Buf, Buf, Buf, Buf>): void {
    const poke = () => this.wake?.();
    stream.on('readable', poke);
    stream.on('close', poke);
    stream.on('error', (error: Error) => {
      if (stream !== this.stream) return;
      this.failure = error;
      poke();
    });
  }

  /** After a leader change: a new stream from the committed offsets, or false when out of tries. */
  private async reopenAfterLeaderChange(): Promise<boolean> {
    if (this.reopen === undefined || !leaderMoved(this.failure) || this.reopens.inARow >= MAX_REOPENS)
      return false;
    this.reopens.total++;
    this.reopens.inARow++;
    await new Promise((r) => setTimeout(r, backoffMs(this.reopens.inARow)));
    if (this.closed) return true;
    const stream = await this.reopen();
    this.failure = null;
    this.stream = stream;
    this.listen(stream);
    return true;
  }

  /** Completed (re)joins of this member and the group generation it is in, for tests and logs. */
  get membership(): { joins: number; generation: number } {
    return { joins: this.joins, generation: this.consumer.generationId };
  }

  private updateOwnership(assignments: NonNullable<KafkaConsumer['assignments']>): void {
    this.joins++;
    this.lastOwner = null;
    const now = new Map<string, TopicPartition>();
    for (const a of assignments)
      for (const p of a.partitions) now.set(partitionKey(a.topic, p), { topic: a.topic, partition: p });
    for (const key of this.owned.keys()) if (!now.has(key)) this.owned.delete(key);
    // The client keeps a fetch position per partition across rejoins and, for a partition the group
    // never committed, goes on from it: a member that had prefetched a partition, lost it and got it
    // back started past records nobody handed out, and its commits skipped them (kafka-rejoin:
    // "offsets 0..9334 never handed out" with the group's lag at 0). Forget the position of every
    // partition this member does not keep: the client then starts it at the group's committed
    // offset, or at the earliest one when there is none.
    const positions = this.stream.offsetsToFetch;
    for (const key of [...positions.keys()]) {
      const sep = key.lastIndexOf(':');
      const owned = this.owned.get(partitionKey(key.slice(0, sep), Number(key.slice(sep + 1))));
      if (owned === undefined) positions.delete(key);
    }
    for (const [key, { topic, partition }] of now) {
      if (this.owned.has(key)) continue;
      this.owned.set(key, {
        topic,
        partition,
        period: ++this.ownershipPeriods,
        sinceGeneration: this.consumer.generationId,
        nextOffset: -1n,
        committed: -1n,
      });
    }
  }

  /** The last ownership looked up: records come in runs of one partition (no key string per record). */
  private lastOwner: { topic: string; partition: number; owner: Ownership | undefined } | null = null;

  private ownerOf(message: KafkaMessage): Ownership | undefined {
    const last = this.lastOwner;
    if (last !== null && last.partition === message.partition && last.topic === message.topic)
      return last.owner;
    const owner = this.owned.get(partitionKey(message.topic, message.partition));
    this.lastOwner = { topic: message.topic, partition: message.partition, owner };
    return owner;
  }

  /** Whether a record read from the stream may be handed out (see the class comment). */
  private admit(message: KafkaMessage): boolean {
    const owner = this.ownerOf(message);
    if (owner === undefined) {
      this.skipped.notOwned++;
      return false;
    }
    if (generationOf(message) < owner.sinceGeneration) {
      this.skipped.staleFetch++;
      return false;
    }
    if (message.offset < owner.nextOffset) {
      this.skipped.alreadyHandedOut++;
      return false;
    }
    owner.nextOffset = message.offset + 1n;
    return true;
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
      if (this.failure) {
        if (await this.reopenAfterLeaderChange()) continue;
        throw this.failure;
      }
      // The client ends its stream only on close() or a fatal error: never end quietly.
      if (this.stream.destroyed)
        throw new KafkaFailedError(`Kafka consumer stream of group ${this.group} ended unexpectedly`);
      let message: KafkaMessage | null = this.stream.read();
      while (message !== null) {
        if (this.admit(message)) {
          this.reopens.inARow = 0;
          messages.push(message);
          if (messages.length >= this.maxBatchRecords) break;
        }
        message = this.stream.read();
      }
      if (messages.length > 0 && deadline === Number.POSITIVE_INFINITY)
        deadline = Date.now() + this.maxWaitMs;
      if (messages.length >= this.maxBatchRecords || (messages.length > 0 && Date.now() >= deadline)) break;
      if (messages.length === 0) void this.reassertCommits();
      await this.sleep(messages.length > 0 ? Math.max(1, deadline - Date.now()) : 1000);
    }
    const batch: ConsumedBatch = { records: messages.map(toRecord) };
    this.lastOfBatch.set(batch, this.lastPositions(messages));
    return { done: false, value: batch };
  }

  /** Each partition's last message of a batch, as positions (a key string per run, not per message). */
  private lastPositions(messages: readonly KafkaMessage[]): HandedOut[] {
    const handedOut: HandedOut[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const next = messages[i + 1];
      if (next !== undefined && next.partition === m.partition && next.topic === m.topic) continue;
      const position = {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        leaderEpoch: m.leaderEpoch,
        period: this.owned.get(partitionKey(m.topic, m.partition))?.period ?? -1,
      };
      const at = handedOut.findIndex((h) => h.partition === m.partition && h.topic === m.topic);
      if (at < 0) handedOut.push(position);
      else handedOut[at] = position;
    }
    return handedOut;
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
    if (last === undefined)
      throw new InternalError('commit(batch): the batch did not come from this subscription');
    const offsets = [];
    for (const m of last) {
      const { period } = m;
      const owner = this.owned.get(partitionKey(m.topic, m.partition));
      if (owner === undefined || owner.period !== period) {
        this.skipped.commitsNotOwned++;
        continue;
      }
      offsets.push({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset + 1n,
        leaderEpoch: m.leaderEpoch,
      });
    }
    await this.commitForward(offsets);
  }

  async commitOffsets(offsets: CommitOffsets): Promise<void> {
    const owned = offsets.filter((o) => {
      if (this.owned.has(partitionKey(o.topic, o.partition))) return true;
      this.skipped.commitsNotOwned++;
      return false;
    });
    // leaderEpoch -1: unknown, the broker skips the fencing check.
    await this.commitForward(owned.map((o) => ({ ...o, leaderEpoch: -1 })));
  }

  /** Commits what moves an owned partition forward; a commit behind an earlier one is dropped. */
  private async commitForward(
    offsets: Array<TopicPartition & { offset: bigint; leaderEpoch: number }>,
  ): Promise<void> {
    const forward = offsets.filter(
      (o) => o.offset > (this.owned.get(partitionKey(o.topic, o.partition))?.committed ?? -1n),
    );
    if (forward.length === 0) return;
    await this.commitRaw({ offsets: forward });
    for (const o of forward) {
      const owner = this.owned.get(partitionKey(o.topic, o.partition));
      if (owner !== undefined && owner.committed < o.offset) owner.committed = o.offset;
    }
  }

  /**
   * The client re-sends a commit that failed in a rebalance under the new generation, after the
   * rejoin: an old offset, possibly of a partition whose owner has committed past it since. When it
   * lands after the owner's last commit and the owner has nothing more to read, the group's offset
   * stays behind for good and its lag never reaches 0 (test/integration/kafka-rejoin.test.ts saw
   * partition 1: 9,210 → 3,600, lag stuck). So while this member waits for records, it sends its
   * own committed offsets again, at most every REASSERT_IDLE_MS and never beside a commit in flight:
   * the same values, harmless when nothing was rewound.
   */
  private async reassertCommits(): Promise<void> {
    const now = Date.now();
    if (this.closed || this.commitsInFlight > 0 || now - this.lastReassertMs < REASSERT_IDLE_MS) return;
    this.lastReassertMs = now;
    const offsets = [];
    for (const o of this.owned.values())
      if (o.committed >= 0n)
        offsets.push({ topic: o.topic, partition: o.partition, offset: o.committed, leaderEpoch: -1 });
    if (offsets.length === 0) return;
    await this.commitRaw({ offsets }).catch(() => {});
  }

  /**
   * After close() a commit is moot: this member left the group and the new owners re-read from the
   * last commit. A commit racing with close() fails with "connection closed"; that is not an error.
   */
  private async commitRaw(options: Parameters<KafkaConsumer['commit']>[0]): Promise<void> {
    if (this.closed) return;
    const commit = this.consumer.commit(options);
    this.inflightCommit = commit.catch(() => {});
    this.commitsInFlight++;
    try {
      await commit;
    } catch (error) {
      if (!this.closed) throw error;
    } finally {
      this.commitsInFlight--;
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
