import type { Bus, Subscription } from '../bus/bus.ts';
import type { ComponentContext } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import type { Detector } from '../detect/detector.ts';
import type { AlertOutput } from '../sinks/alert-output.ts';
import { decodeJson } from './codec.ts';

/**
 * The correlate role: events topics → Sigma rules and correlation windows → alert outputs (the
 * alerts topic, console, webhook). A consumed batch is committed once its alerts were written.
 * Windows are event-time; an idle timer advances the clock with wall time so a quiet stream still
 * closes its windows. Alert ids are deterministic, so a replay after a crash re-raises the same
 * ids and the store's upsert keeps one alert.
 */
export interface CorrelateRoleOptions {
  bus: Bus;
  group: string;
  topics: string[];
  detector: Detector;
  output: AlertOutput;
  /** Every alert raised or updated (the embedded mode's live feed). */
  onAlerts?: (alerts: Alert[]) => void;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  from?: 'earliest' | 'latest';
  idleAdvanceMs?: number;
}

export interface CorrelateRole {
  run(): Promise<void>;
  /** Resolves once the consumer group is subscribed. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export function createCorrelateRole(options: CorrelateRoleOptions): CorrelateRole {
  const logger = options.ctx.logger.child({ component: 'correlate' });
  let subscription: Subscription | undefined;
  let stopping = false;
  let writing: Promise<void> = Promise.resolve();

  /** Alerts go out in order, one write at a time, whether from a batch or the idle timer. */
  function emit(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return writing;
    writing = writing.then(async () => {
      await options.output.write(alerts);
      options.onAlerts?.(alerts);
    });
    return writing;
  }

  const subscribed = deferred();

  return {
    ready: subscribed.promise,
    async run() {
      try {
        subscription = await options.bus.subscribe({
          group: options.group,
          topics: options.topics,
          from: options.from ?? 'earliest',
        });
        subscribed.resolve();
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      const idle = setInterval(() => {
        emit(options.detector.advance(Date.now())).catch((err) =>
          logger.error({ err }, 'writing alerts of closed windows failed'),
        );
      }, options.idleAdvanceMs ?? 5000);
      try {
        for await (const batch of subscription) {
          const events: Envelope[] = [];
          for (const record of batch.records) {
            try {
              events.push(decodeJson<Envelope>(record));
            } catch {
              options.ctx.telemetry.rejects.inc({ source: 'bus', reason: 'correlate_bad_record' });
            }
          }
          await emit(options.detector.process(events));
          await subscription.commit(batch);
          if (stopping) break;
        }
      } finally {
        clearInterval(idle);
      }
    },
    async stop() {
      stopping = true;
      await subscription?.close();
      await writing;
      await options.output.stop();
    },
  };
}
