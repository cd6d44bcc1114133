import { z } from 'zod';
import { d } from '../core/describe.ts';

/**
 * `bus:` (memory or Kafka, with the Kafka client's settings) and `topics:` in socstream.yaml: the
 * sections of the message bus, beside it (moved from src/config/schema.ts). src/config/schema.ts
 * assembles the whole file.
 */
export const codec = z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']);

export const kafkaSchema = z
  .object({
    brokers: d(z.array(z.string()).min(1).default(['127.0.0.1:9092']), 'Bootstrap servers, host:port'),
    client_id: d(z.string().default('socstream'), 'Kafka client id'),
    compression: d(
      codec.default('lz4'),
      'Producer compression codec: internal topics, and output topics topics.compression leaves unset',
    ),
    connect_timeout_ms: d(z.number().int().positive().default(10_000), 'Give up connecting after this long'),
    fetch_max_bytes: d(
      z.number().int().positive().default(1_048_576),
      'Consumers: largest fetch response (the broker still returns one whole record batch when bigger); records wait in memory until processed, so smaller fetches mean less memory and GC (docs/benchmarks.md)',
    ),
    fetch_max_partition_bytes: d(
      z.number().int().positive().default(131_072),
      'Consumers: largest share of one partition in a fetch response',
    ),
    retries: d(
      z.number().int().min(0).default(60),
      'Retries of every Kafka request (produce, fetch, commit, metadata), backoff 100 ms doubling to 5 s: 60 ride out about 4 minutes of a broker or cluster outage (a leader election takes ~10 s)',
    ),
    delivery_timeout_ms: d(
      z.number().int().positive().default(240_000),
      'How long a publish may wait for the cluster to acknowledge it (leader elections, brokers down): the bus re-sends what was not acknowledged to the current leaders until then, then fails with SOC_KAFKA_DELIVERY',
    ),
    replication_factor: d(
      z.number().int().positive().optional(),
      "Replicas of each topic socstream creates; omitted: the cluster's default.replication.factor (3 on a cluster)",
    ),
    min_insync_replicas: d(
      z.number().int().positive().optional(),
      "min.insync.replicas of each topic socstream creates (2 with 3 replicas); omitted: the cluster's default",
    ),
    ssl: d(
      z
        .object({
          ca_file: d(z.string().optional(), "CA bundle that signs the brokers' certificates (PEM)"),
          cert_file: d(z.string().optional(), 'Client certificate for mutual TLS (PEM)'),
          key_file: d(z.string().optional(), 'Private key of cert_file (PEM)'),
          reject_unauthorized: d(
            z.boolean().default(true),
            'Refuse brokers whose certificate does not verify',
          ),
        })
        .strict()
        .optional(),
      'TLS to the brokers; files are PEM',
    ),
    sasl: d(
      z
        .object({
          mechanism: d(
            z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
            'SASL mechanism the brokers accept',
          ),
          username: d(z.string().min(1), 'SASL user name'),
          password: d(z.string().min(1), 'SASL password (never logged)'),
        })
        .strict()
        .optional(),
      'SASL authentication; the password is redacted from logs',
    ),
  })
  .strict();

export const busSchema = z
  .object({
    type: d(z.enum(['memory', 'kafka']).default('memory'), 'memory: one process; kafka: distributed roles'),
    group_prefix: d(
      z.string().min(1).default('socstream'),
      'Consumer groups are <group_prefix>-process, -correlate, -store: two pipelines on one cluster need two prefixes',
    ),
    kafka: kafkaSchema.default(kafkaSchema.parse({})),
    memory: z
      .object({
        queue_capacity: d(
          z.number().int().positive().default(10_000),
          'Records held per partition before publishers wait (backpressure)',
        ),
        assignment: d(
          z.enum(['range', 'round_robin']).default('range'),
          "How a group's partitions are shared among its members (Kafka's range / round-robin assignors)",
        ),
        release_delivered: d(
          z.boolean().default(true),
          'Let a record go once every group fetched it, before the commit: a crash re-reads it from the source checkpoint anyway; false keeps it for redelivery after a rebalance',
        ),
      })
      .strict()
      .default({ queue_capacity: 10_000, assignment: 'range', release_delivered: true }),
  })
  .strict();

export const topicsSchema = z
  .object({
    raw_prefix: d(z.string().default('raw.'), 'Raw input topics are <raw_prefix><source>'),
    network: d(
      z.string().default('events.network'),
      'Normalized network events (conn, dns, flows, IDS alerts)',
    ),
    auth: d(z.string().default('events.auth'), 'Normalized authentication events'),
    web: d(z.string().default('events.web'), 'Normalized web/HTTP events'),
    other: d(z.string().default('events.other'), 'Normalized events of any other class'),
    matches: d(
      z.string().default('matches'),
      'Internal: rule matches keyed by rule + group key, for correlation',
    ),
    alerts: d(z.string().default('alerts'), 'Alerts'),
    dlq: d(z.string().default('dlq'), 'Rejected records with reason and position'),
    partitions: d(z.number().int().positive().default(6), 'Partitions for topics socstream creates'),
    class_topics: d(
      z.boolean().default(false),
      'Also publish every event that no route claims to its class topic (network, auth, web, other), ' +
        'for consumers outside socstream. Either way the process role writes the lake in the same pass',
    ),
    lake_inputs: d(
      z.array(z.string()).default([]),
      'Topics of envelopes (JSON) that other producers fill: the store role writes them into the lake',
    ),
    compression: d(
      z
        .object({
          alerts: d(codec.default('gzip'), 'Codec of the alerts topic (gzip: every Kafka client reads it)'),
          dlq: d(codec.default('gzip'), 'Codec of the dlq topic'),
          network: d(codec.optional(), 'Codec of topics.network (unset: bus.kafka.compression)'),
          auth: d(codec.optional(), 'Codec of topics.auth (unset: bus.kafka.compression)'),
          web: d(codec.optional(), 'Codec of topics.web (unset: bus.kafka.compression)'),
          other: d(codec.optional(), 'Codec of topics.other (unset: bus.kafka.compression)'),
        })
        .strict()
        .default({ alerts: 'gzip', dlq: 'gzip' }),
      'Codec per output topic (Kafka bus); unset ones and the internal raw and matches topics use bus.kafka.compression. gzip, the default for alerts and dlq, is the codec every Kafka client reads without add-ons (docs/kafka.md)',
    ),
  })
  .strict();

/** A source entry; its own keys are validated against the source type's schema (src/sources). */

export type KafkaConfig = z.infer<typeof kafkaSchema>;
export type BusConfig = z.infer<typeof busSchema>;
export type TopicsConfig = z.infer<typeof topicsSchema>;
