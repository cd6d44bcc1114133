import { type KafkaConfig, type TopicsConfig, topicsSchema } from './bus-schema.ts';

/**
 * The `topics:` section with every default name under `prefix` (`raw.` → `<prefix>raw.`,
 * `events.network` → `<prefix>events.network`, …): an isolated pipeline on a shared broker, as the
 * Kafka tests and benchmarks run. The names come from the schema's defaults; the return type makes
 * a topic added to the schema fail to compile until it is listed here.
 */
export function prefixedTopics(prefix: string, partitions?: number): TopicsConfig {
  const defaults = topicsSchema.parse({});
  return {
    raw_prefix: prefix + defaults.raw_prefix,
    network: prefix + defaults.network,
    auth: prefix + defaults.auth,
    web: prefix + defaults.web,
    other: prefix + defaults.other,
    matches: prefix + defaults.matches,
    alerts: prefix + defaults.alerts,
    dlq: prefix + defaults.dlq,
    partitions: partitions ?? defaults.partitions,
    class_topics: defaults.class_topics,
    lake_inputs: defaults.lake_inputs,
    compression: defaults.compression,
  };
}

/** The codec of each output topic that topics.compression sets, by topic name (Kafka bus). */
export function topicCompression(topics: TopicsConfig): Record<string, KafkaConfig['compression']> {
  const out: Record<string, KafkaConfig['compression']> = {};
  for (const [key, codec] of Object.entries(topics.compression))
    if (codec !== undefined) out[topics[key as keyof typeof topics.compression]] = codec;
  return out;
}
