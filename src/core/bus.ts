/**
 * One Bus interface over the in-process memory bus and Apache Kafka (ARCHITECTURE.md).
 * Semantics follow Kafka's: topics have partitions, a record's key picks its partition, order holds
 * per partition, consumer groups share partitions among members, and offsets advance only through
 * an explicit commit made after the work derived from a batch is durable.
 */
export interface BusRecord {
  key: string | null;
  value: Uint8Array;
  headers?: Record<string, string>;
  /** Epoch ms; the bus stamps the publish time when absent. */
  timestamp?: number;
  /**
   * The object `value` encodes, when the publisher has it (roles/codec.ts). The in-process bus hands
   * it to consumers with the record and never reads `value` itself, so an object that crosses it is
   * neither encoded nor decoded (codec.ts encodes `value` only when something reads it); a bus that
   * serializes reads `value` and drops this. Consumers treat it as read-only: it is shared.
   */
  decoded?: unknown;
}

export interface ConsumedRecord extends BusRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; kept as bigint end to end. */
  offset: bigint;
  timestamp: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topic configs passed through to Kafka (e.g. retention.ms); ignored by the memory bus. */
  configs?: Record<string, string>;
}

export interface SubscribeOptions {
  group: string;
  topics: string[];
  /** Where a group with no committed offset starts: the earliest record or only new ones. */
  from?: 'earliest' | 'latest';
  /** Largest number of records handed over in one batch. */
  maxBatchRecords?: number;
  /** How long to wait to fill a batch before handing over what there is. */
  maxWaitMs?: number;
  /**
   * Called when this member has read everything it owns while a publisher waits for room in one of
   * its partitions. Only a bus whose backlog is bounded by the group's commits calls it (the memory
   * bus; Kafka's log is not): a consumer that commits only after a flush must flush now, or the
   * publisher waits for the next timed flush and the pipeline runs at one batch per interval.
   */
  onStall?: () => void;
}

export interface ConsumedBatch {
  records: ConsumedRecord[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Offsets to commit: the next offset to read, per topic-partition (Kafka's convention). */
export type CommitOffsets = Array<TopicPartition & { offset: bigint }>;

export interface Subscription extends AsyncIterable<ConsumedBatch> {
  /** Commits, for every partition in the batch, the offset after its last record. */
  commit(batch: ConsumedBatch): Promise<void>;
  commitOffsets(offsets: CommitOffsets): Promise<void>;
  /** The partitions this member currently owns. */
  assignments(): TopicPartition[];
  /** Leaves the group (uncommitted records are redelivered to the remaining members). */
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: 'memory' | 'kafka';
  createTopics(topics: TopicSpec[]): Promise<void>;
  listTopics(): Promise<TopicSpec[]>;
  /** Resolves once every record is durably accepted (Kafka: acked by the broker). */
  publish(topic: string, records: BusRecord[]): Promise<void>;
  /**
   * Only where accepting is not durable (the in-process bus): resolves once every group subscribed
   * to `topic` has committed past the records of an earlier `publish(topic, records)` (the same
   * array). A source acks a batch only then. Kafka has none: the broker's ack is the durability.
   */
  consumed?(topic: string, records: readonly BusRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Committed offsets of a group, for lag metrics and rebuilds. */
  committedOffsets(group: string, topics: string[]): Promise<CommitOffsets>;
  /** High-water marks (next offset to be written) per partition. */
  endOffsets(topics: string[]): Promise<CommitOffsets>;
  /**
   * Reads the records at offsets [from, to) of one partition outside any consumer group (no
   * commit, no rebalance, no effect on the group's position), in offset order and in batches: what
   * a correlate member replays to rebuild its windows. Offsets already deleted by retention are
   * skipped (the range starts at the oldest record kept).
   */
  readRange(topic: string, partition: number, from: bigint, to: bigint): AsyncIterable<ConsumedRecord[]>;
  close(): Promise<void>;
}
