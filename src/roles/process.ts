import type { Bus, BusRecord, Subscription } from '../bus/bus.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import { type ProcessOutput, type Processor, streamOf } from '../core/processor.ts';
import type { EventMatcher } from '../detect/detector.ts';
import { type MatchMessage, messageKey } from '../detect/matches.ts';
import type { Route } from '../normalize/route.ts';
import { encodeJson, envelopeRecord, inputFromRaw } from './codec.ts';

/**
 * The process role: raw topics → parse, normalize, enrich → events.* topics, rejects → dead
 * letters; with `detection`, the stateless half of detection too: Sigma rules run here and their
 * matches go to the matches topic keyed by rule + group key (the correlate role owns the state).
 * The consumed batch is committed only after every derived record was accepted by the bus and the
 * dead letters were flushed: at-least-once, and replays give the same event and alert ids.
 */
export interface ProcessRoleOptions {
  bus: Bus;
  group: string;
  /** Topics to consume, with the format of each when known (kafka sources name it). */
  topics: Array<{ topic: string; format?: string }>;
  processor: Processor;
  route: (env: Envelope) => Route;
  dlq: DeadLetter;
  /** Single-event rules → match messages, published to `topic` after the events. */
  detection?: { matcher: EventMatcher; topic: string };
  /** Called with each batch of envelopes after they were published (live tail). */
  onEvents?: (events: Envelope[]) => void;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  from?: 'earliest' | 'latest';
}

export interface ProcessRole {
  run(): Promise<void>;
  /** Resolves once the consumer group is subscribed. */
  readonly ready: Promise<void>;
  /** Swaps the rules (admin rule reload); the next batch is matched with the new matcher. */
  setMatcher(matcher: EventMatcher): void;
  stop(): Promise<void>;
}

/** Groups records by topic, keeping order within each. */
function byTopic(routed: Array<{ topic: string; record: BusRecord }>): Map<string, BusRecord[]> {
  const out = new Map<string, BusRecord[]>();
  for (const r of routed) {
    let list = out.get(r.topic);
    if (!list) {
      list = [];
      out.set(r.topic, list);
    }
    list.push(r.record);
  }
  return out;
}

export function matchRecord(m: MatchMessage): BusRecord {
  return { key: messageKey(m), value: encodeJson(m) };
}

function matchRun(
  matcher: EventMatcher,
  envelopes: readonly Envelope[],
  start: number,
  origin: string,
  out: MatchMessage[],
): void {
  if (envelopes.length > start) matcher.matchEvents(envelopes.slice(start), origin, out);
}

export function createProcessRole(options: ProcessRoleOptions): ProcessRole {
  const logger: Logger = options.ctx.logger.child({ component: 'process' });
  const { telemetry } = options.ctx;
  const formatOf = new Map(options.topics.map((t) => [t.topic, t.format]));
  const detection = options.detection ? { ...options.detection } : undefined;
  let subscription: Subscription | undefined;
  let stopping = false;
  const subscribed = deferred();

  return {
    ready: subscribed.promise,
    setMatcher(matcher) {
      if (detection) detection.matcher = matcher;
    },
    async run() {
      try {
        await options.dlq.start();
        subscription = await options.bus.subscribe({
          group: options.group,
          topics: options.topics.map((t) => t.topic),
          from: options.from ?? 'earliest',
        });
        subscribed.resolve();
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      for await (const batch of subscription) {
        const out: ProcessOutput = { envelopes: [], rejects: [] };
        const matches: MatchMessage[] = [];
        // Envelopes are matched per run of records from one input partition: each message carries
        // its origin partition and that partition's event clock (per-partition watermarks).
        let runStart = 0;
        let runOrigin = '';
        for (const record of batch.records) {
          const origin = `${record.topic}:${record.partition}`;
          if (detection && origin !== runOrigin) {
            matchRun(detection.matcher, out.envelopes, runStart, runOrigin, matches);
            runStart = out.envelopes.length;
            runOrigin = origin;
          }
          const input = inputFromRaw(record, formatOf.get(record.topic));
          options.processor.process(input, streamOf(record.topic, record.partition, record.key), out);
        }
        if (detection) matchRun(detection.matcher, out.envelopes, runStart, runOrigin, matches);
        const routed = out.envelopes.map((env) => {
          const route = options.route(env);
          return { topic: route.topic, record: envelopeRecord(env, route.key) };
        });
        for (const env of out.envelopes)
          telemetry.eventsIn.inc({ source: env.source, log_type: env.log_type });
        for (const r of out.rejects) telemetry.rejects.inc({ source: r.source, reason: r.reason });
        const publishes = [...byTopic(routed)].map(([topic, records]) => options.bus.publish(topic, records));
        if (out.rejects.length) {
          publishes.push(options.dlq.write(out.rejects).then(() => options.dlq.flush()));
          // Bad data is logged once per batch, not per record.
          logger.warn(
            { rejects: out.rejects.length, first: out.rejects[0].reason },
            'records sent to the dead-letter output',
          );
        }
        await Promise.all(publishes);
        if (detection && matches.length > 0) {
          await options.bus.publish(detection.topic, matches.map(matchRecord));
        }
        options.onEvents?.(out.envelopes);
        await subscription.commit(batch);
        if (stopping) break;
      }
    },
    async stop() {
      stopping = true;
      await subscription?.close();
      await options.dlq.stop();
    },
  };
}
