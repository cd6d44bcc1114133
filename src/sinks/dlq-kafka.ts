import { z } from 'zod';
import type { Bus, BusRecord } from '../core/bus.ts';
import type { DeadLetter, DeadLetterDefinition, Health } from '../core/component.ts';
import { d } from '../core/describe.ts';
import type { Reject } from '../core/envelope.ts';
import { SinkUnavailableError } from '../core/errors.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { deadLetterRecord } from './dlq-record.ts';

/**
 * `kafka` dead-letter output: the same JSON as the file output, published to the `dlq` topic
 * through the bus (keyed by reason, so one reason's letters stay in order on one partition).
 * `write` resolves once the broker acked, so there is nothing left for `flush`.
 */
export const dlqKafkaConfig = z
  .object({
    type: d(z.literal('kafka').optional(), 'kafka (dlq.type picks the output)'),
    max_bytes: d(z.number().int().positive().default(65_536), 'Raw bytes kept per rejected record'),
  })
  .strict();

export type DlqKafkaConfig = z.infer<typeof dlqKafkaConfig>;

const encoder = new TextEncoder();

class KafkaDeadLetter implements DeadLetter {
  readonly #config: DlqKafkaConfig;
  readonly #telemetry: Telemetry;
  readonly #bus: Bus | undefined;
  readonly #topic: string;

  constructor(config: DlqKafkaConfig, telemetry: Telemetry, bus: Bus | undefined, topic: string) {
    this.#topic = topic;
    this.#config = config;
    this.#telemetry = telemetry;
    this.#bus = bus;
  }

  #requireBus(): Bus {
    if (!this.#bus)
      throw new SinkUnavailableError('the kafka dead-letter output needs a bus (bus.type: kafka)');
    return this.#bus;
  }

  async start(): Promise<void> {
    this.#requireBus();
  }

  async healthcheck(): Promise<Health> {
    return this.#bus ? { ok: true } : { ok: false, detail: 'no bus' };
  }

  async write(rejects: Reject[]): Promise<void> {
    if (!rejects.length) return;
    const records: BusRecord[] = rejects.map((r) => ({
      key: r.reason,
      value: encoder.encode(JSON.stringify(deadLetterRecord(r, this.#config.max_bytes))),
      headers: { 'socstream-reason': r.reason },
      timestamp: r.receivedAt,
    }));
    await this.#requireBus().publish(this.#topic, records);
    this.#telemetry.dlqWrites.inc({ output: 'kafka' }, rejects.length);
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {}
}

export const dlqKafka: DeadLetterDefinition<DlqKafkaConfig> = {
  type: 'kafka',
  kind: 'dlq',
  section: 'dlq',
  summary: 'Publishes rejected records as JSON to the dlq topic (topics.dlq) through the bus',
  config: dlqKafkaConfig,
  example: { type: 'kafka' },
  create: (config, ctx) => new KafkaDeadLetter(config, ctx.telemetry, ctx.bus, ctx.topics?.dlq ?? 'dlq'),
};
