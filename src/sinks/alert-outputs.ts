import type { Config } from '../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { coalescingOutput } from '../detect/coalesce.ts';
import { createConsoleAlertOutput } from './alert-console.ts';
import { createKafkaAlertOutput } from './alert-kafka.ts';
import { type AlertOutput, fanOut } from './alert-output.ts';
import { createWebhookAlertOutput } from './alert-webhook.ts';

/** What building the configured outputs needs from the runtime. */
export interface AlertOutputContext {
  dataDir: string;
  logger?: Logger;
  telemetry?: Telemetry;
  /** Needed when `alerts.kafka` is on. */
  bus?: Bus;
  /** Console destination (default stdout). */
  stream?: NodeJS.WritableStream;
}

/**
 * The outputs `alerts:` in socstream.yaml asks for (console, Kafka `topics.alerts`, webhook), as one
 * fan-out. The alert store is wired by the storage stage, not here.
 */
export function alertOutputsFromConfig(
  config: Pick<Config, 'alerts' | 'topics'>,
  ctx: AlertOutputContext,
): AlertOutput {
  const outputs: AlertOutput[] = [];
  if (config.alerts.console)
    outputs.push(
      createConsoleAlertOutput({
        ...(ctx.stream ? { stream: ctx.stream } : {}),
        updates: config.alerts.console_updates,
      }),
    );
  if (config.alerts.kafka && ctx.bus) {
    outputs.push(
      createKafkaAlertOutput({ bus: ctx.bus, topic: config.topics.alerts, telemetry: ctx.telemetry }),
    );
  }
  if (config.alerts.webhook) {
    outputs.push(
      createWebhookAlertOutput({
        config: config.alerts.webhook,
        dataDir: ctx.dataDir,
        logger: ctx.logger,
        telemetry: ctx.telemetry,
      }),
    );
  }
  // Issue 15: an alert is raised once; its updates are coalesced (src/detect/coalesce.ts).
  const interval = config.alerts.update_interval_seconds * 1000;
  return interval > 0 ? coalescingOutput(fanOut(outputs), { intervalMs: interval }) : fanOut(outputs);
}
