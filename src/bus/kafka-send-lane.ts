/**
 * One send lane of the Kafka bus (kafka.ts): its own idempotent producer (its own connections,
 * producer id and sequence numbers), its own queue and its own send loop, one request in flight.
 *
 * The bus keeps two: the bulk lane (raw lines, routed events, dead letters: requests of up to
 * 8 MiB) and the latency lane (the matches and alerts topics: small records a detection waits
 * for). A topic always goes through the same lane, so per-partition order is publish order and
 * every partition is written under one producer id, as before; the lanes only stop a match or an
 * alert from queueing behind a bulk request in flight (docs/kafka.md "Two send lanes").
 *
 * Delivery (the issue-18 rule): a request the client fails to deliver (leaders moved, brokers
 * down) is re-sent partition by partition to the current leaders under its first producer id and
 * sequence numbers, until bus.kafka.delivery_timeout_ms (`deliver`, kafka-redelivery.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Broker,
  findErrorBy,
  GenericError,
  kGetApi,
  kGetConnection,
  type MessageToProduce,
  NumericMap,
  ProduceAcks,
  Producer,
  protocolErrors,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
import type { BusRecord } from '../core/bus.ts';
import { KafkaDeliveryError, KafkaUnreachableError } from '../core/errors.ts';
import { backoffMs } from './backoff.ts';
import { clientOptions, type KafkaConfig } from './kafka-client-options.ts';
import {
  answeredPartitions,
  assignPartitions,
  describePartitions,
  groupByLeader,
  inTheLog,
  type PartitionKey,
  partitionCodes,
  partitionKey,
  takeSequences,
  unsent,
  writtenPartitions,
} from './kafka-redelivery.ts';

/** Payload per produce request: under the broker's default message.max.bytes (1 MiB) per batch. */
const MAX_SEND_BYTES = 768 * 1024;
/** One produce request across topics: the broker's socket.request.max.bytes is 100 MiB. */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** Record framing, roughly, so many tiny records do not add up past the limit. */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * The client's own retries of one produce: few, so that a request whose partitions' leaders moved
 * apart comes back to `deliver` quickly, which re-sends it grouped by the leaders of the moment
 * until bus.kafka.delivery_timeout_ms (the client would keep sending to the old grouping).
 */
const PRODUCER_RETRIES = 3;
/** The broker's wait for the in-sync replicas of a re-sent batch (the client's default timeout). */
const PRODUCE_TIMEOUT_MS = 5_000;

type Buf = Buffer;
type OutgoingRecord = MessageToProduce<Buf, Buf, Buf, Buf>;

/** The producer id and epoch a request was first sent under (`key` = `id:epoch`). */
interface ProducerIdentity {
  key: string;
  producerId: bigint;
  producerEpoch: number;
}

interface OutgoingMessage {
  message: MessageToProduce<Buf, Buf, Buf, Buf>;
  /** Uncompressed size, for the request limits. */
  bytes: number;
}

/** One publish() waiting in the send queue; `next` is its first record not yet sent. */
interface QueuedPublish extends PromiseWithResolvers<void> {
  messages: OutgoingMessage[];
  next: number;
  /** The codec of its topic: one produce request carries one codec. */
  compression: KafkaConfig['compression'];
}

function identityKey(producer: Producer<Buf, Buf, Buf, Buf>): string {
  return `${producer.producerId}:${producer.producerEpoch}`;
}

/**
 * Worth another try: an error of the client that it does not mark final (`canRetry: false`, e.g.
 * a closed client or a record too large). Anything else (a bug, a closed bus) is final.
 */
function retriable(error: unknown): boolean {
  return (
    error instanceof Error && GenericError.isGenericError(error) && !findErrorBy(error, 'canRetry', false)
  );
}

/** An error the client marks final (a closed client, a record too large): no resend helps. */
function final(error: unknown): boolean {
  return error instanceof Error && findErrorBy(error, 'canRetry', false) !== null;
}

/** A produce error code the client's catalogue calls retriable (NOT_LEADER_OR_FOLLOWER, timeouts). */
function protocolRetriable(code: number): boolean {
  const id = (protocolErrorsCodesById as Record<number, string | undefined>)[code];
  return id !== undefined && (protocolErrors as Record<string, { canRetry: boolean }>)[id]?.canRetry === true;
}

function numericMap(entries: Map<PartitionKey, number>): NumericMap {
  const map = new NumericMap();
  for (const [key, value] of entries) map.set(key, value);
  return map;
}

type ProduceApi = (
  connection: unknown,
  acks: number,
  timeout: number,
  messages: unknown[],
  options: Record<string, unknown>,
  callback: (error: Error | null, response: unknown) => void,
) => void;

/**
 * One Produce request to one broker through the producer's own connections and negotiated API
 * version, with an explicit producer id, epoch and first sequence per partition. Never rejects:
 * the answer is the response, or the error (a ResponseError still carries the response).
 */
function produceTo(
  producer: Producer<Buf, Buf, Buf, Buf>,
  broker: Broker,
  records: OutgoingRecord[],
  options: Record<string, unknown>,
): Promise<{ error?: unknown; response?: unknown }> {
  const messages = records.map((m) => ({ ...m, headers: m.headers ?? new Map() }));
  return new Promise((resolve) => {
    const client = producer as unknown as {
      [kGetConnection]: (broker: Broker, cb: (error: Error | null, connection: unknown) => void) => void;
      [kGetApi]: (name: string, cb: (error: Error | null, api: ProduceApi) => void) => void;
    };
    try {
      client[kGetConnection](broker, (error, connection) => {
        if (error) return resolve({ error });
        client[kGetApi]('Produce', (error, api) => {
          if (error) return resolve({ error });
          api(connection, ProduceAcks.ALL, PRODUCE_TIMEOUT_MS, messages, options, (error, response) =>
            resolve(error ? { error, response: (error as { response?: unknown }).response } : { response }),
          );
        });
      });
    } catch (error) {
      resolve({ error });
    }
  });
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Requests that needed `redeliver`, the records it re-sent, its rounds (for reports). */
export interface RedeliveryCounts {
  requests: number;
  records: number;
  rounds: number;
}

export interface SendLaneOptions {
  config: KafkaConfig;
  /** The client id's role suffix (`producer`, `producer-latency`). */
  name: string;
  /** The bus's one bounded metadata round trip before the first send (KafkaBus.ensureReachable). */
  ensureReachable: () => Promise<void>;
  /** Per-topic codecs (topics.compression); other topics use config.compression. */
  topicCompression: ReadonlyMap<string, KafkaConfig['compression']>;
  /** Shared by the bus's lanes. */
  redelivered: RedeliveryCounts;
}

export class KafkaSendLane {
  private readonly config: KafkaConfig;
  private readonly name: string;
  private readonly ensureReachable: () => Promise<void>;
  private readonly topicCompression: ReadonlyMap<string, KafkaConfig['compression']>;
  private readonly redelivered: RedeliveryCounts;
  private producer: Producer<Buf, Buf, Buf, Buf> | null = null;
  /** Publishes not yet acked, in publish order (see sendLoop). */
  private readonly queue: QueuedPublish[] = [];
  private sending = false;
  /**
   * The sequence numbers of the producer id `id` (`id:epoch`), kept as the client keeps its own,
   * so a re-sent batch carries the numbers of its first try; `id` '' = start a fresh producer id.
   */
  private sequences: { id: string; next: Map<PartitionKey, number> } = { id: '', next: new Map() };
  /** Keyless records' next partition (round-robin). */
  private readonly roundRobin = { next: 0 };

  constructor(options: SendLaneOptions) {
    this.config = options.config;
    this.name = options.name;
    this.ensureReachable = options.ensureReachable;
    this.topicCompression = options.topicCompression;
    this.redelivered = options.redelivered;
  }

  private getProducer(): Producer<Buf, Buf, Buf, Buf> {
    this.producer ??= new Producer<Buf, Buf, Buf, Buf>({
      ...clientOptions(this.config, this.name),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.config.compression,
      autocreateTopics: true,
      retries: PRODUCER_RETRIES,
    });
    return this.producer;
  }

  /**
   * Queues the records behind every earlier publish and resolves once the broker acked all of
   * them. Publishes are not sent one request each: one send loop (below) takes whatever is queued,
   * across topics, into one produce request, so concurrent publishers share round trips.
   */
  publish(topic: string, records: BusRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const now = Date.now();
    const messages: OutgoingMessage[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const key = r.key === null ? undefined : Buffer.from(r.key, 'utf8');
      const value = toBuffer(r.value);
      let bytes = value.byteLength + (key?.byteLength ?? 0) + RECORD_OVERHEAD_BYTES;
      let headers: Map<Buf, Buf> | undefined;
      if (r.headers) {
        headers = headerBuffers(r.headers);
        for (const [k, v] of headers) bytes += k.byteLength + v.byteLength;
      }
      messages[i] = {
        message: {
          topic,
          key,
          value,
          ...(headers ? { headers } : {}),
          timestamp: BigInt(r.timestamp ?? now),
        },
        bytes,
      };
    }
    const compression = this.topicCompression.get(topic) ?? this.config.compression;
    const entry: QueuedPublish = { messages, next: 0, compression, ...Promise.withResolvers<void>() };
    this.queue.push(entry);
    if (!this.sending) void this.sendLoop();
    return entry.promise;
  }

  /**
   * The single sender. The idempotent producer allows one request in flight per connection anyway
   * (@platformatic/kafka sets maxInflights 1), so one loop loses nothing and keeps the order simple:
   * records leave in publish order, so per-key (per-partition) order on every topic is publish
   * order. While a request is in flight, later publishes queue up and leave together in the next
   * one (Kafka's linger, without a timer: an idle producer sends at once).
   */
  private async sendLoop(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        try {
          await this.ensureReachable();
        } catch (error) {
          this.failQueued(error);
          return;
        }
        // Closed meanwhile: close() failed what was queued.
        if (this.queue.length === 0) return;
        const { messages, completed, compression } = this.takeRequest();
        try {
          await this.deliver(messages, compression);
        } catch (error) {
          // Nothing queued behind a failed request may be written after it (a gap would break
          // per-key order): everything waiting fails too and its publishers retry from their
          // last commit.
          for (const entry of completed) entry.reject(error);
          this.failQueued(error);
          continue;
        }
        for (const entry of completed) entry.resolve();
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * Sends one request until every record is in the log, or fails after
   * bus.kafka.delivery_timeout_ms. The fast path is one `Producer.send` (the client groups the
   * records by leader). When it fails, the records of the partitions it did not write are sent
   * again by `redeliver`, under the same producer id and sequence numbers: a partition whose batch
   * reached the log in an attempt whose answer was lost is answered as a duplicate, not written
   * twice; an acknowledged partition is never sent again.
   */
  private async deliver(messages: OutgoingRecord[], compression: KafkaConfig['compression']): Promise<void> {
    const producer = this.getProducer();
    const deadline = Date.now() + this.config.delivery_timeout_ms;
    let attempt = 0;
    for (;;) {
      let first: { identity: ProducerIdentity; sequences: Map<PartitionKey, number> } | undefined;
      let notReady: unknown;
      try {
        // Nothing is sent before this succeeds: each step may wait for the cluster, then retry.
        first = await this.prepare(producer, messages);
        notReady = new KafkaUnreachableError('the metadata has no partition count for a topic yet');
      } catch (error) {
        if (!retriable(error)) throw error;
        notReady = error;
      }
      if (first === undefined) {
        if (Date.now() >= deadline) throw this.deliveryError(messages, notReady);
        await sleep(Math.min(backoffMs(++attempt), Math.max(0, deadline - Date.now())));
        continue;
      }
      try {
        await producer.send({ messages, compression });
      } catch (error) {
        // The client drops its producer id after a failed send; the next request starts a new one.
        this.sequences.id = '';
        const pending = unsent(messages, writtenPartitions(error));
        if (pending.length === 0) return;
        if (!retriable(error) && answeredPartitions(error).size === 0) throw error;
        return this.redeliver(producer, pending, first, compression, deadline, error);
      }
      // The client re-created its producer id inside the send (state lost on a broker): its
      // sequence numbers are no longer ours to know, so start a fresh id for the next request.
      if (identityKey(producer) !== first.identity.key) this.sequences.id = '';
      return;
    }
  }

  /** Partitions for every record, the producer id, and the sequence numbers of this request. */
  private async prepare(
    producer: Producer<Buf, Buf, Buf, Buf>,
    messages: OutgoingRecord[],
  ): Promise<{ identity: ProducerIdentity; sequences: Map<PartitionKey, number> } | undefined> {
    const topics = [...new Set(messages.map((m) => m.topic))];
    const metadata = await producer.metadata({ topics, autocreateTopics: true });
    const partitionsOf = (topic: string) => metadata.topics.get(topic)?.partitionsCount;
    if (!assignPartitions(messages, partitionsOf, this.roundRobin)) return undefined;
    if (producer.producerId === undefined || identityKey(producer) !== this.sequences.id) {
      // A fresh id (the client clears its sequence numbers with it), so ours start at 0 as its do.
      await producer.initIdempotentProducer({});
      this.sequences = { id: identityKey(producer), next: new Map() };
    }
    const identity: ProducerIdentity = {
      key: this.sequences.id,
      producerId: producer.producerId as bigint,
      producerEpoch: producer.producerEpoch as number,
    };
    return { identity, sequences: takeSequences(messages, this.sequences.next) };
  }

  /**
   * Re-sends `pending` (records of partitions not known to be in the log) to each partition's
   * current leader, refreshing the metadata before every round, with bounded backoff, until all
   * are in the log or the delivery deadline passed (KafkaDeliveryError).
   */
  private async redeliver(
    producer: Producer<Buf, Buf, Buf, Buf>,
    pending: OutgoingRecord[],
    first: { identity: ProducerIdentity; sequences: Map<PartitionKey, number> },
    compression: KafkaConfig['compression'],
    deadline: number,
    cause: unknown,
  ): Promise<void> {
    let last = cause;
    let attempt = 0;
    const topics = [...new Set(pending.map((m) => m.topic))];
    this.redelivered.requests++;
    this.redelivered.records += pending.length;
    while (pending.length > 0) {
      this.redelivered.rounds++;
      if (Date.now() >= deadline) throw this.deliveryError(pending, last);
      await sleep(Math.min(backoffMs(++attempt), Math.max(0, deadline - Date.now())));
      let metadata: Awaited<ReturnType<typeof producer.metadata>>;
      try {
        metadata = await producer.metadata({ topics, forceUpdate: true });
      } catch (error) {
        if (final(error)) throw this.deliveryError(pending, error);
        last = error;
        continue;
      }
      const { byLeader } = groupByLeader(
        pending,
        (topic, partition) => metadata.topics.get(topic)?.partitions[partition]?.leader,
      );
      const written = new Set<PartitionKey>();
      const answers = await Promise.all(
        [...byLeader].map(([leader, records]) => {
          const broker = metadata.brokers.get(leader);
          return broker === undefined
            ? {
                error: new KafkaUnreachableError(`broker ${leader} is not in the metadata`),
                response: undefined,
              }
            : produceTo(producer, broker, records, {
                compression,
                producerId: first.identity.producerId,
                producerEpoch: first.identity.producerEpoch,
                sequences: numericMap(first.sequences),
              });
        }),
      );
      for (const answer of answers) {
        if (answer.error !== undefined) last = answer.error;
        const codes = partitionCodes(answer.response);
        for (const [key, code] of codes) {
          if (inTheLog(code)) written.add(key);
          else if (!protocolRetriable(code))
            throw this.deliveryError(
              pending.filter((m) => partitionKey(m.topic, m.partition ?? 0) === key),
              answer.error,
            );
        }
        // A connection or API error without an answer: retriable unless the client says otherwise.
        if (answer.error !== undefined && codes.size === 0 && final(answer.error))
          throw this.deliveryError(pending, answer.error);
      }
      pending = unsent(pending, written);
    }
  }

  private deliveryError(records: OutgoingRecord[], cause: unknown): KafkaDeliveryError {
    if (cause instanceof KafkaDeliveryError) return cause;
    return new KafkaDeliveryError(
      `Kafka did not acknowledge ${records.length} records (${describePartitions(records)}) within ${this.config.delivery_timeout_ms} ms (bus.kafka.delivery_timeout_ms): ${(cause as Error | undefined)?.message ?? 'no answer'}`,
      { cause },
    );
  }

  /**
   * The next produce request: queued records in order while each topic stays under
   * MAX_SEND_BYTES (one partition's batch is at most its topic's share, and the broker refuses a
   * batch over message.max.bytes, 1 MiB by default) and the request under MAX_REQUEST_BYTES.
   * A publish completes with the request that carries its last record.
   */
  private takeRequest(): {
    messages: OutgoingRecord[];
    completed: QueuedPublish[];
    compression: KafkaConfig['compression'];
  } {
    const messages: OutgoingRecord[] = [];
    const completed: QueuedPublish[] = [];
    const topicBytes = new Map<string, number>();
    const compression = this.queue[0].compression;
    let total = 0;
    while (this.queue.length > 0) {
      const entry = this.queue[0];
      // A publish to a topic with another codec leaves in the next request.
      if (entry.compression !== compression) return { messages, completed, compression };
      while (entry.next < entry.messages.length) {
        const { message, bytes } = entry.messages[entry.next];
        const topicTotal = (topicBytes.get(message.topic) ?? 0) + bytes;
        if (messages.length > 0 && (topicTotal > MAX_SEND_BYTES || total + bytes > MAX_REQUEST_BYTES))
          return { messages, completed, compression };
        messages.push(message);
        topicBytes.set(message.topic, topicTotal);
        total += bytes;
        entry.next++;
      }
      completed.push(entry);
      this.queue.shift();
    }
    return { messages, completed, compression };
  }

  failQueued(error: unknown): void {
    const failed = this.queue.splice(0);
    for (const entry of failed) entry.reject(error);
  }

  /** Fails what is still queued with `error` and closes the producer (the request in flight fails with it). */
  async close(error: unknown): Promise<void> {
    this.failQueued(error);
    await this.producer?.close().catch(() => {});
    this.producer = null;
  }
}

function headerBuffers(headers: Record<string, string>): Map<Buf, Buf> {
  const out = new Map<Buf, Buf>();
  for (const name in headers) out.set(Buffer.from(name, 'utf8'), Buffer.from(headers[name], 'utf8'));
  return out;
}
