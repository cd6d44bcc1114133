import type { z } from 'zod';
import type { Bus } from '../core/bus.ts';
import type { busSchema, TopicsConfig } from './bus-schema.ts';
import { KafkaBus } from './kafka.ts';
import { MemoryBus } from './memory.ts';
import { topicCompression } from './topics.ts';

export type BusConfig = z.infer<typeof busSchema>;

/**
 * The bus the config asks for (`bus.type`); creating one opens no connection. `topics` gives the
 * Kafka bus each output topic's codec (topics.compression) and its latency topics: the matches
 * and alerts topics get a producer and send loop of their own, so a detection never waits behind
 * a bulk request of raw lines (docs/kafka.md "Two send lanes").
 */
export function createBus(config: BusConfig, topics?: TopicsConfig): Bus {
  if (config.type === 'kafka')
    return new KafkaBus(config.kafka, topics ? topicCompression(topics) : {}, {
      latencyTopics: topics ? [topics.matches, topics.alerts] : [],
    });
  return new MemoryBus({
    queueCapacity: config.memory.queue_capacity,
    assignment: config.memory.assignment,
    releaseDelivered: config.memory.release_delivered,
  });
}
