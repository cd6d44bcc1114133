import type { TestContext } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { KafkaConfig } from '../../src/bus/kafka-client-options.ts';

/**
 * A KafkaBus that is closed when the test ends, whether it passed or failed (closing the bus
 * closes its subscriptions too): a failing assertion never leaves a Kafka client keeping the
 * test file's process alive.
 */
export function kafkaBusFor(
  t: TestContext,
  config: KafkaConfig,
  options: { latencyTopics?: readonly string[] } = {},
): KafkaBus {
  const bus = new KafkaBus(config, {}, options);
  t.after(() => bus.close());
  return bus;
}
