import type { Bus, Subscription, TopicPartition } from '../bus/bus.ts';
import type { ComponentContext } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Alert } from '../detect/alert.ts';
import type { CorrelationOutput, CorrelationState } from '../detect/detector.ts';
import { isMatchMessage, type MatchMessage } from '../detect/matches.ts';
import type { AlertOutput } from '../sinks/alert-output.ts';
import { decodeJson } from './codec.ts';
import { matchRecord } from './process.ts';

/**
 * The correlate role: the matches topic (match messages re-keyed by rule + group key by the process
 * role) → correlation windows, suppression, chains → alert outputs (the alerts topic, console,
 * webhook). Each member owns the groups of its partitions, so a consumer group of several members
 * shares the state without splitting a window. A consumed batch is committed once its alerts were
 * written and the chain hits it could not decide locally were re-published to the matches topic.
 * Windows are event-time, with one clock per origin partition (watermark.ts); an idle timer
 * advances the clock with wall time so a quiet stream still closes its windows. Alert ids are
 * deterministic, so a replay after a crash re-raises the same ids and the store's upsert keeps one.
 */
export interface CorrelateRoleOptions {
  bus: Bus;
  group: string;
  /** The matches topic (consumed, and where chain hits are re-published). */
  topic: string;
  state: CorrelationState;
  /** Input partitions of the process role (`topic:partition`): their clocks hold the watermark. */
  origins?: readonly string[];
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
  /** The matches partitions this member owns now (each group's state lives with one). */
  assignments(): TopicPartition[];
  /** Swaps the correlation state (admin rule reload): open windows start again empty. */
  setState(state: CorrelationState): void;
  stop(): Promise<void>;
}

export function createCorrelateRole(options: CorrelateRoleOptions): CorrelateRole {
  const logger = options.ctx.logger.child({ component: 'correlate' });
  let subscription: Subscription | undefined;
  let stopping = false;
  let writing: Promise<void> = Promise.resolve();
  let state = options.state;

  /**
   * Alerts go out in order, one write at a time, whether from a batch or the idle timer; chain hits
   * for parents owned elsewhere are re-published first.
   */
  function emit({ alerts, forward }: CorrelationOutput): Promise<void> {
    if (alerts.length === 0 && forward.length === 0) return writing;
    writing = writing.then(async () => {
      if (forward.length > 0) await options.bus.publish(options.topic, forward.map(matchRecord));
      if (alerts.length === 0) return;
      await options.output.write(alerts);
      options.onAlerts?.(alerts);
    });
    return writing;
  }

  const subscribed = deferred();

  return {
    ready: subscribed.promise,
    assignments() {
      return subscription?.assignments() ?? [];
    },
    async run() {
      try {
        subscription = await options.bus.subscribe({
          group: options.group,
          topics: [options.topic],
          from: options.from ?? 'earliest',
        });
        subscribed.resolve();
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      if (options.origins) state.assignPartitions(options.origins);
      const idle = setInterval(() => {
        emit(state.advance(Date.now())).catch((err) =>
          logger.error({ err }, 'writing alerts of closed windows failed'),
        );
      }, options.idleAdvanceMs ?? 5000);
      try {
        for await (const batch of subscription) {
          const messages: MatchMessage[] = [];
          for (const record of batch.records) {
            let message: unknown;
            try {
              message = decodeJson<unknown>(record);
            } catch {
              message = undefined;
            }
            if (isMatchMessage(message)) messages.push(message);
            else options.ctx.telemetry.rejects.inc({ source: 'bus', reason: 'correlate_bad_record' });
          }
          await emit(state.correlateMatches(messages));
          await subscription.commit(batch);
          if (stopping) break;
        }
      } finally {
        clearInterval(idle);
      }
    },
    setState(next) {
      if (options.origins) next.assignPartitions(options.origins);
      state = next;
    },
    async stop() {
      stopping = true;
      await subscription?.close();
      await writing;
      await options.output.stop();
    },
  };
}
