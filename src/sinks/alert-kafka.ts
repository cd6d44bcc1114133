import { z } from 'zod';
import type { Bus, BusRecord } from '../core/bus.ts';
import { d } from '../core/describe.ts';
import { SinkUnavailableError } from '../core/errors.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { Alert } from '../detect/alert.ts';
import type { AlertOutputComponent, AlertOutputDefinition } from './alert-output.ts';

/** Its key of the `alerts:` section. */
export const kafkaAlertConfig = z
  .object({ kafka: d(z.boolean().default(true), 'Publish alerts to the alerts topic') })
  .strict();

/**
 * Publishes alerts to the `alerts` topic (config topics.alerts) through the Bus. The key is the
 * alert id: updates of an alert land on the same partition, after the alert, and a compacted topic
 * keeps each alert's latest state. write() resolves once the broker acknowledged.
 */
export function toAlertRecord(alert: Alert): BusRecord {
  return {
    key: alert.id,
    value: Buffer.from(JSON.stringify(alert)),
    headers: { rule_id: alert.rule_id, level: alert.level },
  };
}

export function createKafkaAlertOutput(options: {
  /** Absent (no bus configured): start() and write() fail with SOC_SINK_UNAVAILABLE. */
  bus: Bus | undefined;
  topic: string;
  telemetry?: Telemetry;
}): AlertOutputComponent {
  const { bus, topic, telemetry } = options;
  let stopped = false;
  const requireBus = (): Bus => {
    if (!bus) throw new SinkUnavailableError('the kafka alert output needs a bus (bus.type: kafka)');
    return bus;
  };
  return {
    name: 'alert_kafka',
    async start() {
      requireBus();
    },
    // The bus has its own health (the runtime checks it); this output holds nothing of its own.
    healthcheck: async () =>
      stopped ? { ok: false, detail: 'stopped' } : bus ? { ok: true } : { ok: false, detail: 'no bus' },
    // write() resolves once the broker acknowledged: nothing is held here.
    async flush() {},
    async write(alerts) {
      if (alerts.length === 0) return;
      try {
        await requireBus().publish(topic, alerts.map(toAlertRecord));
      } catch (err) {
        telemetry?.sinkErrors.inc({ sink: 'alert_kafka' });
        throw err;
      }
    },
    async stop() {
      stopped = true;
    },
  };
}

export const kafkaAlertOutput: AlertOutputDefinition<z.infer<typeof kafkaAlertConfig>> = {
  type: 'kafka',
  kind: 'alert_output',
  section: 'alerts',
  summary: 'Publishes alerts to the alerts topic (topics.alerts), keyed by alert id',
  config: kafkaAlertConfig,
  example: { kafka: true },
  // Without a bus (the CLI's detect) there is no topic to publish to.
  wanted: (config, ctx) => config.kafka && ctx.bus !== undefined,
  create: (_config, ctx) =>
    createKafkaAlertOutput({ bus: ctx.bus, topic: ctx.topics?.alerts ?? 'alerts', telemetry: ctx.telemetry }),
};
