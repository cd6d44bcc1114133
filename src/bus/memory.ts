/**
 * The in-process bus: Kafka's semantics in one process, so the embedded mode and the tests get
 * partitions, keys, consumer groups, rebalances and explicit commits without a broker.
 *
 * - A key picks its partition with Kafka's murmur2 partitioner (same number as on Kafka); records
 *   without a key go round-robin.
 * - Retention: a partition keeps its records until every group subscribed to its topic has
 *   committed past them; `queueCapacity` bounds that uncommitted backlog, and `publish` waits while
 *   a partition is full (backpressure). A topic no group has subscribed to yet keeps only its last
 *   `queueCapacity` records per partition and never blocks (like Kafka retention, nobody to wait for).
 * - Groups share partitions among members (range or round-robin, as Kafka's assignors); any join,
 *   leave or close rebalances. A partition's new owner starts at the group's committed offset, so
 *   whatever the previous owner had not committed is delivered again (at-least-once).
 * - `releaseDelivered`: a record is let go once every subscribed group has fetched it, although no
 *   group committed it yet; the bus keeps only its offset, which is all a commit and `consumed()`
 *   need. Nothing on this bus survives a crash anyway: an uncommitted record is never acked to its
 *   source (ingest.ts), so a restart re-reads it from the source's checkpoint. What is lost is the
 *   in-process redelivery after a rebalance: a member that must read a released record fails with
 *   RecordsReleasedError (the runtime then exits; a restart re-reads). The embedded runtime has one
 *   member per group, so that happens only if a role is replaced while the process runs.
 */

import type {
  Bus,
  BusRecord,
  CommitOffsets,
  ConsumedBatch,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
  TopicSpec,
} from '../core/bus.ts';
import { BusClosedError, SocError } from '../core/errors.ts';
import { partitionForKey } from './partitioner.ts';

export type AssignmentStrategy = 'range' | 'round_robin';

export interface MemoryBusOptions {
  /** Uncommitted records held per partition before publishers wait. */
  queueCapacity?: number;
  /** Partitions of a topic created implicitly by publish or subscribe (Kafka's num.partitions). */
  defaultPartitions?: number;
  assignment?: AssignmentStrategy;
  /**
   * Records kept per partition after every group committed past them, for `readRange` (Kafka keeps
   * committed records until retention; a correlate member replays them to rebuild its windows).
   * Default 0: the embedded mode has one correlate member and never rebuilds.
   */
  retainCommittedRecords?: number;
  /**
   * Let a record go once every group subscribed to its topic has fetched it, before the commit
   * (default false: Kafka's redelivery after a rebalance). Partitions that keep committed records
   * (retainCommittedRecords) keep them as before.
   */
  releaseDelivered?: boolean;
}

/**
 * A member must read records the bus already let go (MemoryBusOptions.releaseDelivered): after a
 * rebalance, a partition's new owner starts at the group's commit, behind what was released.
 */
export class RecordsReleasedError extends SocError {
  constructor(topic: string, partition: number, from: bigint, released: bigint) {
    super(
      `memory bus: records ${from}..${released - 1n} of ${topic}[${partition}] were let go after delivery ` +
        '(bus.memory.release_delivered) and cannot be delivered again in this process; ' +
        'restart it: the sources re-read them from their checkpoints (they were never acked)',
    );
  }
}

const DEFAULT_MAX_BATCH_RECORDS = 1000;

/**
 * A record published with its object (`decoded`): consumers get the object as it was published,
 * and `value` (and the headers) only if they read them, encoded then by the publisher's record.
 */
class HandedOn implements ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly key: string | null;
  readonly decoded: unknown;
  readonly #record: BusRecord;

  constructor(topic: string, partition: number, offset: bigint, timestamp: number, record: BusRecord) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.timestamp = timestamp;
    this.key = record.key;
    this.decoded = record.decoded;
    this.#record = record;
  }

  get value(): Uint8Array {
    return this.#record.value;
  }

  get headers(): Record<string, string> | undefined {
    return this.#record.headers;
  }
}

class Partition {
  readonly topic: string;
  readonly index: number;
  /** records[head] has offset `startOffset`; a released record (below `released`) is null. */
  records: Array<ConsumedRecord | null> = [];
  head = 0;
  startOffset = 0n;
  nextOffset = 0n;
  /** Records below this offset were let go after delivery (releaseDelivered); ≥ startOffset. */
  released = 0n;
  /** Publishers waiting for space, and members waiting for data. */
  spaceWaiters: Array<() => void> = [];
  dataWaiters = new Set<() => void>();
  /** Publishers waiting until every group committed past `offset` (MemoryBus.consumed), oldest first. */
  consumedWaiters: Array<{ offset: bigint; settle: (error?: Error) => void }> = [];
  /** Committed records kept for readRange (the newest `historyLimit`), oldest first. */
  history: ConsumedRecord[] = [];
  historyLimit = 0;

  constructor(topic: string, index: number) {
    this.topic = topic;
    this.index = index;
  }

  get retained(): number {
    return this.records.length - this.head;
  }

  append(record: BusRecord, now: number): void {
    const timestamp = record.timestamp ?? now;
    this.records.push(
      record.decoded === undefined
        ? {
            topic: this.topic,
            partition: this.index,
            offset: this.nextOffset,
            key: record.key,
            value: record.value,
            headers: record.headers,
            timestamp,
          }
        : new HandedOn(this.topic, this.index, this.nextOffset, timestamp, record),
    );
    this.nextOffset++;
  }

  /** Drops records below `offset`; compacts the array once the dropped head is large. */
  trimTo(offset: bigint): void {
    if (offset <= this.startOffset) return;
    const drop = Number((offset < this.nextOffset ? offset : this.nextOffset) - this.startOffset);
    if (this.historyLimit > 0) this.keepHistory(this.head, this.head + drop);
    this.head += drop;
    this.startOffset += BigInt(drop);
    if (this.released < this.startOffset) this.released = this.startOffset;
    if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    if (this.spaceWaiters.length > 0) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const wake of waiters) wake();
    }
    this.settleConsumed();
  }

  /** Resolves the waiters whose records every group has committed past (they are trimmed). */
  settleConsumed(error?: Error): void {
    let done = 0;
    while (
      done < this.consumedWaiters.length &&
      (error || this.consumedWaiters[done].offset < this.startOffset)
    )
      done++;
    if (done === 0) return;
    for (const w of this.consumedWaiters.splice(0, done)) w.settle(error);
  }

  /** Records from `offset` (or the oldest retained, if that is later), at most `max`. */
  read(offset: bigint, max: number): ConsumedRecord[] {
    const start = offset > this.startOffset ? offset : this.startOffset;
    if (start < this.released) throw new RecordsReleasedError(this.topic, this.index, start, this.released);
    const from = this.head + Number(start - this.startOffset);
    return this.records.slice(from, Math.min(from + max, this.records.length)) as ConsumedRecord[];
  }

  /** Lets go of the records below `offset` (every group fetched them), keeping their offsets. */
  releaseTo(offset: bigint): void {
    if (offset <= this.released) return;
    const end = offset < this.nextOffset ? offset : this.nextOffset;
    const base = this.head - Number(this.startOffset);
    for (let i = base + Number(this.released); i < base + Number(end); i++) this.records[i] = null;
    this.released = end;
  }

  wakeReaders(): void {
    for (const wake of this.dataWaiters) wake();
  }

  /** Moves records[from, to) (about to be trimmed) to the history, keeping the newest historyLimit. */
  private keepHistory(from: number, to: number): void {
    // Never released: a partition with a history keeps its records (MemoryBus.release).
    for (let i = Math.max(from, to - this.historyLimit); i < to; i++)
      this.history.push(this.records[i] as ConsumedRecord);
    const over = this.history.length - this.historyLimit;
    if (over > 0) this.history.splice(0, over);
  }

  /** Records with offsets in [from, to): kept history first, then the retained records. */
  range(from: bigint, to: bigint): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const r of this.history) if (r.offset >= from && r.offset < to) out.push(r);
    for (let i = this.head; i < this.records.length; i++) {
      const r = this.records[i];
      if (r === null) {
        // Released (releaseDelivered): asked for again, like a re-read after a rebalance.
        const offset = this.startOffset + BigInt(i - this.head);
        if (offset >= from && offset < to)
          throw new RecordsReleasedError(this.topic, this.index, offset, this.released);
        continue;
      }
      if (r.offset >= to) break;
      if (r.offset >= from) out.push(r);
    }
    return out;
  }
}

class Topic {
  readonly name: string;
  readonly partitions: Partition[];
  readonly configs: Record<string, string> | undefined;
  /** Groups subscribed to this topic: their commits decide retention. */
  readonly groups = new Set<Group>();
  roundRobin = 0;

  constructor(spec: TopicSpec) {
    this.name = spec.name;
    this.configs = spec.configs;
    this.partitions = Array.from({ length: spec.partitions }, (_, i) => new Partition(spec.name, i));
  }
}

const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

class Group {
  readonly id: string;
  readonly members: Member[] = [];
  /** Offsets committed by the group (next offset to read). */
  readonly committed = new Map<string, bigint>();
  /** Where the group starts in a partition it has never committed: fixed when it first subscribes. */
  readonly initial = new Map<string, bigint>();
  generation = 0;

  constructor(id: string) {
    this.id = id;
  }

  /** The first offset this group still needs: its commit, else where it started. */
  floor(p: Partition): bigint {
    const key = partitionKey(p.topic, p.index);
    return this.committed.get(key) ?? this.initial.get(key) ?? p.startOffset;
  }
}

/** Kafka's RangeAssignor: per topic, contiguous partition ranges to members sorted by id. */
function assignRange(members: Member[], topics: Map<string, Topic>): Map<Member, Partition[]> {
  const out = new Map<Member, Partition[]>(members.map((m) => [m, []]));
  const names = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const name of names) {
    const topic = topics.get(name);
    if (topic === undefined) continue;
    const subscribers = members.filter((m) => m.topics.includes(name));
    const per = Math.floor(topic.partitions.length / subscribers.length);
    const extra = topic.partitions.length % subscribers.length;
    let next = 0;
    subscribers.forEach((member, i) => {
      const count = per + (i < extra ? 1 : 0);
      out.get(member)?.push(...topic.partitions.slice(next, next + count));
      next += count;
    });
  }
  return out;
}

/** Kafka's RoundRobinAssignor: all topic-partitions sorted, dealt out to the subscribed members. */
function assignRoundRobin(members: Member[], topics: Map<string, Topic>): Map<Member, Partition[]> {
  const out = new Map<Member, Partition[]>(members.map((m) => [m, []]));
  const names = [...new Set(members.flatMap((m) => m.topics))].sort();
  let turn = 0;
  for (const name of names) {
    const topic = topics.get(name);
    if (topic === undefined) continue;
    for (const partition of topic.partitions) {
      for (let tries = 0; tries < members.length; tries++) {
        const member = members[turn++ % members.length];
        if (member.topics.includes(name)) {
          out.get(member)?.push(partition);
          break;
        }
      }
    }
  }
  return out;
}

const ASSIGNORS: Record<AssignmentStrategy, typeof assignRange> = {
  range: assignRange,
  round_robin: assignRoundRobin,
};

let memberSequence = 0;

class Member implements Subscription {
  readonly id: string;
  readonly topics: string[];
  private readonly bus: MemoryBus;
  private readonly group: Group;
  private readonly maxBatchRecords: number;
  private readonly onStall: (() => void) | undefined;
  /** Owned partitions with this member's fetch position. */
  private owned = new Map<Partition, bigint>();
  private cursor = 0;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(bus: MemoryBus, group: Group, options: SubscribeOptions) {
    // Kafka sorts members by id; a zero-padded sequence keeps join order.
    this.id = `${options.group}-member-${String(++memberSequence).padStart(8, '0')}`;
    this.bus = bus;
    this.group = group;
    this.topics = [...options.topics];
    this.maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    this.onStall = options.onStall;
  }

  /** Called by the group on every rebalance. Kept partitions keep their position. */
  assign(partitions: Partition[]): void {
    const next = new Map<Partition, bigint>();
    for (const p of partitions) next.set(p, this.owned.get(p) ?? this.group.floor(p));
    for (const p of this.owned.keys()) if (!next.has(p) && this.wake) p.dataWaiters.delete(this.wake);
    this.owned = next;
    this.notify();
  }

  notify(): void {
    this.wake?.();
  }

  /** This member's fetch position in `p`, if it owns it. */
  positionIn(p: Partition): bigint | undefined {
    return this.owned.get(p);
  }

  assignments(): TopicPartition[] {
    return [...this.owned.keys()].map((p) => ({ topic: p.topic, partition: p.index }));
  }

  /** One batch from the owned partitions, taking turns so no partition starves. */
  private poll(): ConsumedRecord[] {
    const partitions = [...this.owned.keys()];
    const out: ConsumedRecord[] = [];
    for (let i = 0; i < partitions.length && out.length < this.maxBatchRecords; i++) {
      const p = partitions[(this.cursor + i) % partitions.length];
      const position = this.owned.get(p) ?? p.nextOffset;
      const records = p.read(position, this.maxBatchRecords - out.length);
      if (records.length === 0) continue;
      for (const r of records) out.push(r);
      this.owned.set(p, records[records.length - 1].offset + 1n);
      this.bus.release(p);
    }
    this.cursor++;
    return out;
  }

  /** Whether a publisher waits for this group to commit in a partition this member owns. */
  private holdsPublishers(): boolean {
    for (const p of this.owned.keys()) if (p.spaceWaiters.length > 0) return true;
    return false;
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        for (const p of this.owned.keys()) p.dataWaiters.delete(wake);
        if (this.wake === wake) this.wake = null;
        resolve();
      };
      this.wake = wake;
      for (const p of this.owned.keys()) p.dataWaiters.add(wake);
    });
  }

  async next(): Promise<IteratorResult<ConsumedBatch>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const records = this.poll();
      if (records.length > 0) return { done: false, value: { records } };
      if (this.onStall !== undefined && this.holdsPublishers()) this.onStall();
      await this.waitForData();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumedBatch> {
    return { next: () => this.next(), return: async () => this.finish() };
  }

  async commit(batch: ConsumedBatch): Promise<void> {
    const last = new Map<string, TopicPartition & { offset: bigint }>();
    for (const r of batch.records)
      last.set(partitionKey(r.topic, r.partition), {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset + 1n,
      });
    await this.commitOffsets([...last.values()]);
  }

  async commitOffsets(offsets: CommitOffsets): Promise<void> {
    if (this.closed) return;
    for (const o of offsets) {
      const p = this.bus.partition(o.topic, o.partition);
      // A member commits only what it owns: after a rebalance the new owner re-reads from the
      // last commit, as Kafka rejects a commit from a stale generation.
      if (p === undefined || !this.owned.has(p)) continue;
      this.bus.commitGroupOffset(this.group, p, o.offset);
    }
  }

  private async finish(): Promise<IteratorResult<ConsumedBatch>> {
    await this.close();
    return { done: true, value: undefined };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    this.bus.leave(this.group, this);
  }
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly queueCapacity: number;
  private readonly defaultPartitions: number;
  private readonly assignor: typeof assignRange;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly retainCommittedRecords: number;
  private readonly releaseDelivered: boolean;
  private closed = false;
  /** Per publish call (its records array): the last offset written to each partition, for consumed(). */
  private readonly lastOffsets = new WeakMap<readonly BusRecord[], Map<Partition, bigint>>();

  constructor(options: MemoryBusOptions = {}) {
    this.retainCommittedRecords = options.retainCommittedRecords ?? 0;
    this.releaseDelivered = options.releaseDelivered ?? false;
    this.queueCapacity = options.queueCapacity ?? 10_000;
    this.defaultPartitions = options.defaultPartitions ?? 6;
    this.assignor = ASSIGNORS[options.assignment ?? 'range'];
  }

  async createTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.topic(spec.name, spec.partitions, spec.configs);
  }

  async listTopics(): Promise<TopicSpec[]> {
    return [...this.topics.values()].map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      ...(t.configs ? { configs: t.configs } : {}),
    }));
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[index];
  }

  /** Like Kafka with auto.create.topics.enable: an unknown topic is created on first use. */
  private topic(name: string, partitions = this.defaultPartitions, configs?: Record<string, string>): Topic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new Topic({ name, partitions, configs });
      for (const p of topic.partitions) p.historyLimit = this.retainCommittedRecords;
      this.topics.set(name, topic);
    }
    return topic;
  }

  async publish(topicName: string, records: BusRecord[]): Promise<void> {
    if (this.closed) throw new BusClosedError('memory bus is closed');
    const topic = this.topic(topicName);
    const count = topic.partitions.length;
    const touched = new Set<Partition>();
    const last = new Map<Partition, bigint>();
    this.lastOffsets.set(records, last);
    const now = Date.now();
    for (const record of records) {
      const index = record.key === null ? topic.roundRobin++ % count : partitionForKey(record.key, count);
      const p = topic.partitions[index];
      if (topic.groups.size === 0) {
        // Nobody to wait for: keep the newest records only.
        if (p.retained >= this.queueCapacity) p.trimTo(p.startOffset + 1n);
      } else {
        while (p.retained >= this.queueCapacity && topic.groups.size > 0) {
          // Readers must see what is there before we wait for them to commit it.
          p.wakeReaders();
          touched.delete(p);
          await new Promise<void>((resolve) => p.spaceWaiters.push(resolve));
          if (this.closed) throw new BusClosedError('memory bus is closed');
        }
      }
      p.append(record, now);
      touched.add(p);
      last.set(p, p.nextOffset - 1n);
    }
    for (const p of touched) p.wakeReaders();
  }

  /**
   * Resolves once every group subscribed to the topic has committed past the records of an
   * earlier `publish(topic, records)` (the same array). Nothing on this bus outlives the process:
   * a source acks a batch only when its consumers made it durable (the process role, after its
   * lake flush), so a crash re-reads it. Rejects with BusClosedError when the bus closes first.
   */
  consumed(topicName: string, records: readonly BusRecord[]): Promise<void> {
    const last = this.lastOffsets.get(records);
    this.lastOffsets.delete(records);
    const topic = this.topics.get(topicName);
    if (last === undefined || topic === undefined || topic.groups.size === 0) return Promise.resolve();
    const waits: Array<Promise<void>> = [];
    for (const [p, offset] of last) {
      if (offset < p.startOffset) continue;
      if (this.closed) return Promise.reject(new BusClosedError('memory bus is closed'));
      waits.push(
        new Promise((resolve, reject) =>
          p.consumedWaiters.push({ offset, settle: (error) => (error ? reject(error) : resolve()) }),
        ),
      );
    }
    return Promise.all(waits).then(() => {});
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new BusClosedError('memory bus is closed');
    let group = this.groups.get(options.group);
    if (group === undefined) {
      group = new Group(options.group);
      this.groups.set(options.group, group);
    }
    for (const name of options.topics) {
      const topic = this.topic(name);
      if (!topic.groups.has(group)) {
        topic.groups.add(group);
        for (const p of topic.partitions) {
          const key = partitionKey(p.topic, p.index);
          if (!group.committed.has(key) && !group.initial.has(key))
            group.initial.set(key, options.from === 'latest' ? p.nextOffset : p.startOffset);
        }
      }
    }
    const member = new Member(this, group, options);
    group.members.push(member);
    this.rebalance(group);
    return member;
  }

  commitGroupOffset(group: Group, p: Partition, offset: bigint): void {
    const clamped = offset > p.nextOffset ? p.nextOffset : offset;
    group.committed.set(partitionKey(p.topic, p.index), clamped);
    this.trim(p);
  }

  /**
   * With releaseDelivered: lets go of what every group subscribed to the topic has fetched (a
   * group whose partition no member owns holds it at its commit).
   */
  release(p: Partition): void {
    if (!this.releaseDelivered || p.historyLimit > 0) return;
    const topic = this.topics.get(p.topic);
    if (topic === undefined || topic.groups.size === 0) return;
    let floor = p.nextOffset;
    for (const group of topic.groups) {
      let fetched: bigint | undefined;
      for (const member of group.members) {
        fetched = member.positionIn(p);
        if (fetched !== undefined) break;
      }
      const f = fetched ?? group.floor(p);
      if (f < floor) floor = f;
    }
    p.releaseTo(floor);
  }

  /** Frees what every subscribed group has committed past, waking blocked publishers. */
  private trim(p: Partition): void {
    const topic = this.topics.get(p.topic);
    if (topic === undefined || topic.groups.size === 0) return;
    let floor = p.nextOffset;
    for (const group of topic.groups) {
      const f = group.floor(p);
      if (f < floor) floor = f;
    }
    p.trimTo(floor);
  }

  leave(group: Group, member: Member): void {
    const i = group.members.indexOf(member);
    if (i >= 0) group.members.splice(i, 1);
    this.rebalance(group);
  }

  private rebalance(group: Group): void {
    group.generation++;
    const plan = this.assignor(group.members, this.topics);
    for (const [member, partitions] of plan) member.assign(partitions);
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<CommitOffsets> {
    const group = this.groups.get(groupId);
    const out: CommitOffsets = [];
    if (group === undefined) return out;
    for (const name of topics) {
      for (const p of this.topics.get(name)?.partitions ?? []) {
        const offset = group.committed.get(partitionKey(name, p.index));
        if (offset !== undefined) out.push({ topic: name, partition: p.index, offset });
      }
    }
    return out;
  }

  async endOffsets(topics: string[]): Promise<CommitOffsets> {
    return topics.flatMap((name) =>
      (this.topics.get(name)?.partitions ?? []).map((p) => ({
        topic: name,
        partition: p.index,
        offset: p.nextOffset,
      })),
    );
  }

  async *readRange(
    topic: string,
    partition: number,
    from: bigint,
    to: bigint,
  ): AsyncIterable<ConsumedRecord[]> {
    const p = this.partition(topic, partition);
    if (p === undefined) return;
    // A copy, in batches: the caller may publish (and so trim) while it iterates.
    const records = p.range(from, to);
    for (let i = 0; i < records.length; i += DEFAULT_MAX_BATCH_RECORDS) {
      yield records.slice(i, i + DEFAULT_MAX_BATCH_RECORDS);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const group of this.groups.values()) for (const member of [...group.members]) await member.close();
    for (const topic of this.topics.values())
      for (const p of topic.partitions) {
        const waiters = p.spaceWaiters;
        p.spaceWaiters = [];
        for (const wake of waiters) wake();
        p.settleConsumed(new BusClosedError('memory bus is closed'));
      }
  }
}
