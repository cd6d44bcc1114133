import type { Bus, BusRecord, ConsumedBatch, Subscription } from '../bus/bus.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import { type ProcessOutput, type Processor, streamOf } from '../core/processor.ts';
import type { EventMatcher } from '../detect/detector.ts';
import { type MatchMessage, messageKey } from '../detect/matches.ts';
import type { Route } from '../normalize/route.ts';
import { encodeJson, envelopeRecord, inputFromRaw } from './codec.ts';
import { InOrderWindow } from './in-order.ts';

/**
 * The process role: raw topics → parse, normalize, enrich → events.* topics, rejects → dead
 * letters; with `detection`, the stateless half of detection too: Sigma rules run here and their
 * matches go to the matches topic keyed by rule + group key (the correlate role owns the state).
 * Consumed batches are pipelined (several in flight, src/roles/in-order.ts); each is committed only
 * after every derived record was accepted by the bus, the dead letters were flushed and every
 * earlier batch was committed: at-least-once, and replays give the same event and alert ids.
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
  /** Consumed batches processed but not yet committed, at most (default 8). */
  maxInFlightBatches?: number;
}

/** Enough to cover a broker round trip at full speed; each holds ≤ 1,000 records and their envelopes. */
export const DEFAULT_MAX_IN_FLIGHT_BATCHES = 8;
/** stop() waits this long at most for the batches in flight (inside the 10 s shutdown bound). */
const STOP_FLUSH_MS = 2000;

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
  let inFlight: InOrderWindow | undefined;
  const subscribed = deferred();
  const maxInFlight = options.maxInFlightBatches ?? DEFAULT_MAX_IN_FLIGHT_BATCHES;
  /** Dead letters are written one batch after the other (a file sink appends in order). */
  let deadLetters: Promise<void> = Promise.resolve();

  /** Processes one consumed batch and starts its publishes; `published` resolves once all are acked. */
  function handle(batch: ConsumedBatch): { published: Promise<void>; envelopes: Envelope[] } {
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
    for (const env of out.envelopes) telemetry.eventsIn.inc({ source: env.source, log_type: env.log_type });
    for (const r of out.rejects) telemetry.rejects.inc({ source: r.source, reason: r.reason });
    // Events and matches go out together (the Kafka bus sends what is queued in one request);
    // a replay after a failure re-publishes both with the same ids.
    const publishes = [...byTopic(routed)].map(([topic, records]) => options.bus.publish(topic, records));
    if (detection && matches.length > 0)
      publishes.push(options.bus.publish(detection.topic, matches.map(matchRecord)));
    if (out.rejects.length) {
      const rejects = out.rejects;
      deadLetters = deadLetters.then(async () => {
        await options.dlq.write(rejects);
        await options.dlq.flush();
      });
      publishes.push(deadLetters);
      // Bad data is logged once per batch, not per record.
      logger.warn(
        { rejects: rejects.length, first: rejects[0].reason },
        'records sent to the dead-letter output',
      );
    }
    return { published: Promise.all(publishes).then(() => undefined), envelopes: out.envelopes };
  }

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
      // Several consumed batches in flight: a batch's publishes are not awaited before the next
      // batch is processed; commits follow in consumption order, each once its batch is acked.
      const window = new InOrderWindow(maxInFlight, () => {
        // A failed publish or commit ends the loop (which may be waiting for records); run()
        // then throws the failure from flush().
        void subscription?.close();
      });
      inFlight = window;
      const sub = subscription;
      for await (const batch of sub) {
        const { published, envelopes } = handle(batch);
        await window.add(published, async () => {
          options.onEvents?.(envelopes);
          await sub.commit(batch);
        });
        if (stopping) {
          await window.flush();
          break;
        }
      }
      await window.flush();
    },
    async stop() {
      stopping = true;
      // Let the batches in flight commit before leaving the group (a failure is run()'s to report),
      // for a bounded time: with the broker gone they would wait out the client's retries, and
      // what is not committed is delivered again anyway.
      if (inFlight) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          inFlight.flush().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, STOP_FLUSH_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      await subscription?.close();
      await options.dlq.stop();
    },
  };
}
