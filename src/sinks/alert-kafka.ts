import type { Bus, BusRecord } from '../core/bus.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { Alert } from '../detect/alert.ts';
import type { AlertOutput } from './alert-output.ts';

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
  bus: Bus;
  topic: string;
  telemetry?: Telemetry;
}): AlertOutput {
  const { bus, topic, telemetry } = options;
  return {
    name: 'alert_kafka',
    async write(alerts) {
      if (alerts.length === 0) return;
      try {
        await bus.publish(topic, alerts.map(toAlertRecord));
      } catch (err) {
        telemetry?.sinkErrors.inc({ sink: 'alert_kafka' });
        throw err;
      }
    },
    async stop() {},
  };
}
