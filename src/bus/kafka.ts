/**
 * The Bus on Apache Kafka through @platformatic/kafka (pinned in package.json).
 *
 * - Producer: idempotent, acks=all, lz4 by default (bus.kafka.compression), Kafka's Java key
 *   partitioner (src/bus/partitioner.ts) so keys land where Java clients put them. A request the
 *   client fails to deliver (leaders moved, brokers down) is re-sent partition by partition to the
 *   current leaders under its first producer id and sequence numbers, until
 *   bus.kafka.delivery_timeout_ms (`deliver`, src/bus/kafka-redelivery.ts). Two send lanes, each
 *   its own producer and send loop (src/bus/kafka-send-lane.ts): the latency topics (matches,
 *   alerts) never wait behind a bulk request of raw lines.
 * - One Consumer per subscription = one group member; autocommit off: offsets move only through
 *   commit(), after the caller made the batch's results durable.
 * - Reconnects with exponential backoff (bus.kafka.retries). The first contact with the cluster
 *   is bounded by bus.kafka.connect_timeout_ms and fails with KafkaUnreachableError naming the
 *   bootstrap address, instead of retrying forever.
 */
import { Admin, Consumer } from '@platformatic/kafka';
import type {
  Bus,
  BusRecord,
  CommitOffsets,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from '../core/bus.ts';
import { BusClosedError, KafkaUnreachableError } from '../core/errors.ts';
import { subscribedRoundRobin } from './kafka-assigner.ts';
import { clientOptions, type KafkaConfig } from './kafka-client-options.ts';
import { readKafkaRange } from './kafka-reader.ts';
import { KafkaSendLane, type RedeliveryCounts } from './kafka-send-lane.ts';
import { DEFAULT_MAX_BATCH_RECORDS, KafkaSubscription } from './kafka-subscription.ts';

/** Heartbeats often enough that a rebalance is noticed within a second. */
const HEARTBEAT_INTERVAL_MS = 500;
const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 15_000;

type Buf = Buffer;

/** Races `work` against the connect timeout; the loser's rejection is always handled. */
async function withinConnectTimeout<T>(config: KafkaConfig, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const address = config.brokers.join(',');
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new KafkaUnreachableError(
            `no Kafka broker answered at ${address} within ${config.connect_timeout_ms} ms (${what}); is the broker running? (npm run kafka:start)`,
          ),
        ),
      config.connect_timeout_ms,
    );
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    if (error instanceof KafkaUnreachableError) throw error;
    throw new KafkaUnreachableError(
      `cannot reach Kafka at ${address} (${what}): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly config: KafkaConfig;
  private admin: Admin | null = null;
  private reachable: Promise<void> | null = null;
  private readonly subscriptions = new Set<KafkaSubscription>();
  /** Requests that needed a re-send, the records re-sent, the rounds (both lanes, for reports). */
  readonly redelivered: RedeliveryCounts = { requests: 0, records: 0, rounds: 0 };
  /** Raw lines, routed events, dead letters: requests of up to 8 MiB (kafka-send-lane.ts). */
  private readonly bulk: KafkaSendLane;
  /** The latency topics' own producer, connection and send loop (`latencyTopics`). */
  private readonly latency: KafkaSendLane;
  private readonly latencyTopics: ReadonlySet<string>;

  /**
   * `topicCompression`: per-topic codecs (topics.compression). `options.latencyTopics`: topics a
   * detection waits for (createBus passes the matches and alerts topics); they are sent by a
   * producer of their own, so they never queue behind a bulk request in flight.
   */
  constructor(
    config: KafkaConfig,
    topicCompression: Record<string, KafkaConfig['compression']> = {},
    options: { latencyTopics?: readonly string[] } = {},
  ) {
    this.config = config;
    const compression = new Map(Object.entries(topicCompression));
    const lane = (name: string) =>
      new KafkaSendLane({
        config,
        name,
        ensureReachable: () => this.ensureReachable(),
        topicCompression: compression,
        redelivered: this.redelivered,
      });
    this.bulk = lane('producer');
    this.latency = lane('producer-latency');
    this.latencyTopics = new Set(options.latencyTopics ?? []);
  }

  get bootstrap(): string {
    return this.config.brokers.join(',');
  }

  private getAdmin(): Admin {
    this.admin ??= new Admin(clientOptions(this.config, 'admin'));
    return this.admin;
  }

  /** One bounded metadata round trip before the first real operation. */
  private ensureReachable(): Promise<void> {
    if (this.reachable === null) {
      const admin = this.getAdmin();
      this.reachable = withinConnectTimeout(
        this.config,
        'metadata',
        admin.metadata({ topics: [] }).then(() => undefined),
      ).catch(async (error) => {
        this.reachable = null;
        // Stop the client's background retries; a later call starts afresh.
        this.admin = null;
        await admin.close().catch(() => {});
        throw error;
      });
    }
    return this.reachable;
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    await this.ensureReachable();
    const admin = this.getAdmin();
    const existing = new Set(await admin.listTopics());
    for (const spec of topics) {
      if (existing.has(spec.name)) continue;
      try {
        await admin.createTopics({
          topics: [spec.name],
          partitions: spec.partitions,
          // -1: the cluster's default.replication.factor (1 locally, 3 on a real cluster)
          replicas: this.config.replication_factor ?? -1,
          configs: Object.entries({
            ...(this.config.min_insync_replicas
              ? { 'min.insync.replicas': String(this.config.min_insync_replicas) }
              : {}),
            ...spec.configs,
          }).map(([name, value]) => ({ name, value })),
        });
      } catch (error) {
        if (
          !String((error as Error & { errors?: unknown[] }).errors?.map(String) ?? error).includes(
            'already exists',
          )
        )
          throw error;
      }
    }
    await this.waitForLeaders(topics.map((t) => t.name));
  }

  /** A new topic is usable once every partition has a leader in the metadata. */
  private async waitForLeaders(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const deadline = Date.now() + this.config.connect_timeout_ms;
    for (;;) {
      try {
        const metadata = await this.getAdmin().metadata({ topics: names, forceUpdate: true });
        const ready = names.every((n) => {
          const t = metadata.topics.get(n);
          return t !== undefined && t.partitionsCount > 0 && t.partitions.every((p) => p.leader >= 0);
        });
        if (ready) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline)
        throw new KafkaUnreachableError(`topics ${names.join(', ')} have no leader yet`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async listTopics(): Promise<TopicSpec[]> {
    await this.ensureReachable();
    const admin = this.getAdmin();
    const names = (await admin.listTopics()).sort();
    if (names.length === 0) return [];
    const metadata = await admin.metadata({ topics: names, forceUpdate: true });
    return names.map((name) => ({ name, partitions: metadata.topics.get(name)?.partitionsCount ?? 0 }));
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.ensureReachable();
    await this.getAdmin().deleteTopics({ topics: names });
  }

  /**
   * Queues the records behind every earlier publish of their lane and resolves once the broker
   * acked all of them (kafka-send-lane.ts: concurrent publishes share produce requests). A topic
   * always uses the same lane, so per-key order on every topic is publish order.
   */
  publish(topic: string, records: BusRecord[]): Promise<void> {
    return (this.latencyTopics.has(topic) ? this.latency : this.bulk).publish(topic, records);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    await this.ensureReachable();
    const consumer = new Consumer<Buf, Buf, Buf, Buf>({
      ...clientOptions(this.config, 'consumer'),
      groupId: options.group,
      autocommit: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      // Each topic's partitions only to members subscribed to it (a group id shared by members of
      // other subscriptions stalled otherwise: src/bus/kafka-assigner.ts).
      partitionAssigner: subscribedRoundRobin,
      maxWaitTime: Math.min(options.maxWaitMs ?? 500, 500),
      // Fetch response limits (bus.kafka.fetch_max_bytes, 1 MiB by default; the broker still
      // returns one whole batch when it is bigger). The client's defaults (50 MB per fetch AND per
      // partition) let one fetch hold tens of MB; 8 MiB held ~15,000 parsed records in the stream
      // at a time, which survived young-generation GCs: 1 MiB gave −12..20 % CPU and 440 → 285 MB
      // RSS for a bare consumer (docs/benchmarks.md).
      maxBytes: this.config.fetch_max_bytes,
      maxBytesPerPartition: this.config.fetch_max_partition_bytes,
    });
    try {
      const open = () =>
        consumer.consume({
          topics: options.topics,
          mode: 'committed',
          fallbackMode: options.from ?? 'latest',
          autocommit: false,
          highWaterMark: Math.max(1024, options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS),
        });
      // `open` again after a leader change on a cluster (KafkaSubscription.reopenAfterLeaderChange)
      const sub = new KafkaSubscription(consumer, await open(), options, open);
      this.subscriptions.add(sub);
      return sub;
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw error;
    }
  }

  async committedOffsets(group: string, topics: string[]): Promise<CommitOffsets> {
    await this.ensureReachable();
    const [result] = await this.getAdmin().listConsumerGroupOffsets({ groups: [group] });
    const wanted = new Set(topics);
    const out: CommitOffsets = [];
    for (const t of result?.topics ?? []) {
      if (!wanted.has(t.name)) continue;
      for (const p of t.partitions)
        if (p.committedOffset >= 0n)
          out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset });
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async endOffsets(topics: string[]): Promise<CommitOffsets> {
    await this.ensureReachable();
    const admin = this.getAdmin();
    const metadata = await admin.metadata({ topics, forceUpdate: true });
    const request = topics.map((name) => ({
      name,
      // timestamp -1: the latest offset (ListOffsets' LATEST_TIMESTAMP)
      partitions: Array.from(
        { length: metadata.topics.get(name)?.partitionsCount ?? 0 },
        (_, partitionIndex) => ({
          partitionIndex,
          timestamp: -1n,
        }),
      ),
    }));
    const listed = await admin.listOffsets({ topics: request });
    const out: CommitOffsets = [];
    for (const t of listed)
      for (const p of t.partitions)
        out.push({ topic: t.name, partition: p.partitionIndex, offset: p.offset });
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  readRange(topic: string, partition: number, from: bigint, to: bigint): AsyncIterable<ConsumedRecord[]> {
    return readKafkaRange(this.config, topic, partition, from, to);
  }

  async close(): Promise<void> {
    // Close everything even if one member fails to leave; report the first failure afterwards.
    let failure: unknown = null;
    for (const sub of this.subscriptions) await sub.close().catch((error: unknown) => (failure ??= error));
    this.subscriptions.clear();
    // Publishes still queued can no longer be sent (the one in flight fails with the producer).
    const closed = new BusClosedError('the Kafka bus was closed before this publish was sent');
    await Promise.all([this.bulk.close(closed), this.latency.close(closed)]);
    await this.admin?.close().catch(() => {});
    this.admin = null;
    this.reachable = null;
    if (failure !== null) throw failure;
  }
}
