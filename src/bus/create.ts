import type { z } from 'zod';
import type { busSchema } from '../config/schema.ts';
import type { Bus } from './bus.ts';
import { KafkaBus } from './kafka.ts';
import { MemoryBus } from './memory.ts';

export type BusConfig = z.infer<typeof busSchema>;

/** The bus the config asks for (`bus.type`); creating one opens no connection. */
export function createBus(config: BusConfig): Bus {
  if (config.type === 'kafka') return new KafkaBus(config.kafka);
  return new MemoryBus({ queueCapacity: config.memory.queue_capacity, assignment: config.memory.assignment });
}
