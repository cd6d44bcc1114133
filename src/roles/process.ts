import type { Bus, BusRecord, ConsumedBatch, Subscription } from '../core/bus.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope, Reject } from '../core/envelope.ts';
import { InternalError, SinkUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventMatcher } from '../detect/detector.ts';
import type { MatchMessage } from '../detect/matches.ts';
import { envelopeRecord, matchRecords } from './codec.ts';
import { DurableLoop, type RoleLake } from './durable-loop.ts';
import { eventCounts, type Processed, processRecords, type RecordProcessor } from './process-batch.ts';
import type { ProcessWorker } from './process-worker.ts';

export { type RecordProcessor, streamOf } from './process-batch.ts';

/**
 * The process role, one pass: raw topics → parse, normalize, enrich → the lake, written by this
 * member for the partitions it owns; with `detection`, the stateless half of detection too (Sigma
 * rules here, their matches to the matches topic keyed by rule + group key, for the correlate
 * role); event topics only where a route asks for them; rejects → dead letters.
 *
 * The commit rule (as Kafka Connect's S3 sink commits after its upload): a consumed batch's raw
 * offsets are committed only once its events are in renamed Parquet files, its matches, routed
 * events and dead letters are acked, and every earlier batch was committed (durable-loop.ts, which
 * also bounds what is uncommitted and pauses while the lake's disk is full). A crash loses only
 * uncommitted work, which Kafka delivers again with the same event ids (the lake's compaction drops
 * the repeated rows; the correlator counts a repeated match once).
 */

/** Where an event goes beyond the lake: a topic and its key, or nowhere (null). */
export type EventRoute = (env: Envelope) => { topic: string; key: string | null } | null;

export interface ProcessRoleOptions {
  bus: Bus;
  group: string;
  /** Topics to consume, with the format of each when known (kafka sources name it). */
  topics: Array<{ topic: string; format?: string }>;
  /** This thread's engine; required without a worker. */
  processor?: RecordProcessor;
  /** The lake, written in the same pass; without one the role commits once its outputs acked. */
  lake?: RoleLake;
  /**
   * The second core (config process.workers): parse → match and the lake run in this worker
   * thread, which builds its own processor, matcher and lake from the config (`processor`, `lake`
   * and the matcher of `detection` are then unused here; `detection.topic` still names the
   * matches topic).
   */
  worker?: ProcessWorker;
  /** Event topics a user asked for (routes); absent or null: the event goes to the lake only. */
  route?: EventRoute;
  dlq: DeadLetter;
  /** Single-event rules → match messages, published to `topic` as each batch is processed. */
  detection?: { matcher: EventMatcher; topic: string };
  /** Called with each batch of envelopes once processed (the live tail of a serve role here). */
  onEvents?: (events: Envelope[]) => void;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  from?: 'earliest' | 'latest';
  /**
   * Consumed records not yet committed before the role forces a lake flush and waits (default
   * 200,000; config lake.max_uncommitted_events): the bound on what the role holds. Keep it above
   * lake.flush_event_count, or every flush is a forced one.
   */
  maxInFlightRecords?: number;
}

export const DEFAULT_MAX_IN_FLIGHT_RECORDS = 200_000;
/**
 * Batches handed to the worker and not yet processed: the next one is pulled only below this, so
 * raw batches do not pile up in the worker's queue (the consumer is faster than the engine).
 */
const MAX_QUEUED_BATCHES = 4;
/** stop() waits this long at most for the last flush and commits (inside the 10 s shutdown bound). */
const STOP_FLUSH_MS = 4000;
/**
 * How long the raw consumer waits to fill a batch once it has a record (the Kafka bus's default is
 * 100 ms): every match of a batch waits for it. A backlog fills a batch at once either way, so
 * throughput does not depend on it; a trickle makes more, smaller batches (docs/detection.md).
 */
const RAW_BATCH_WAIT_MS = 10;

export interface ProcessRole {
  run(): Promise<void>;
  /** Resolves once the consumer group is subscribed. */
  readonly ready: Promise<void>;
  /** Swaps the rules (admin rule reload); the next batch is matched with the new matcher. */
  setMatcher(matcher: EventMatcher): void;
  /** Flushes what the lake buffers now (draining at shutdown); the commits follow as usual. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createProcessRole(options: ProcessRoleOptions): ProcessRole {
  const logger: Logger = options.ctx.logger.child({ component: 'process' });
  const { telemetry } = options.ctx;
  const { worker } = options;
  const processor = options.processor;
  if (!worker && !processor) throw new InternalError('the process role needs a processor or a worker');
  const lake = worker ? worker.lake() : options.lake;
  const formatOf = new Map(options.topics.map((t) => [t.topic, t.format]));
  const detection = options.detection ? { ...options.detection } : undefined;
  const subscribed = deferred();
  let subscription: Subscription | undefined;
  let started = false;
  /** Partitions of the matches topic, read at start: match messages are packed per partition. */
  let matchPartitions: number | undefined;
  /** Dead letters are written one batch after the other (a file sink appends in order). */
  let deadLetters: Promise<void> = Promise.resolve();
  const loop = new DurableLoop({
    stage: 'process',
    ctx: { logger, telemetry },
    lake,
    maxInFlightRecords: options.maxInFlightRecords ?? DEFAULT_MAX_IN_FLIGHT_RECORDS,
    handOn(batch) {
      if (worker) return handOnToWorker(worker, batch);
      const processed = processRecords(
        batch.records,
        formatOf,
        processor as RecordProcessor,
        detection?.matcher,
      );
      const done = handOn(processed);
      liveTail(processed.envelopes, done);
      return done;
    },
  });

  /** The batch's envelopes to the live tail once durable (the serve role running here). */
  function liveTail(envelopes: Envelope[], done: Promise<unknown>): void {
    if (options.onEvents && envelopes.length > 0)
      done.then(() => options.onEvents?.(envelopes)).catch(() => {});
  }

  /**
   * The worker parses, matches and writes the lake; here its matches, rejects and routed events
   * are published as it hands them back (in batch order: its replies keep the order of the
   * batches), and the batch is done once those acked and the worker's lake made it durable.
   */
  function handOnToWorker(w: ProcessWorker, batch: ConsumedBatch): Promise<unknown> {
    const { processed, durable } = w.submit(batch.records);
    return processed.then((p) => {
      for (const [source, log_type, n] of p.counts) telemetry.eventsIn.inc({ source, log_type }, n);
      const envelopes = p.envelopes ?? [];
      const pending = outputs(p.matches, p.rejects, envelopes);
      if (detection && p.matchRecords) pending.push(options.bus.publish(detection.topic, p.matchRecords));
      const done = Promise.all([durable, ...pending]);
      liveTail(envelopes, done);
      return done;
    });
  }

  /** Starts every write a batch needs; the promise resolves once all are durable or acked. */
  function handOn(processed: Processed): Promise<unknown> {
    const { envelopes, rejects, matches } = processed;
    for (const [source, log_type, n] of eventCounts(envelopes))
      telemetry.eventsIn.inc({ source, log_type }, n);
    // Matches first: detection latency does not wait for the lake.
    const pending = outputs(matches, rejects, envelopes);
    if (lake && envelopes.length > 0) pending.push(lake.write(envelopes));
    return Promise.all(pending);
  }

  /** Publishes a batch's matches, routed events and dead letters; the promises of their acks. */
  function outputs(matches: MatchMessage[], rejects: Reject[], envelopes: Envelope[]): Promise<unknown>[] {
    for (const r of rejects) telemetry.rejects.inc({ source: r.source, reason: r.reason });
    const pending: Promise<unknown>[] = [];
    if (detection && matches.length > 0)
      pending.push(options.bus.publish(detection.topic, matchRecords(matches, matchPartitions)));
    if (options.route) for (const p of publishRouted(envelopes, options.route)) pending.push(p);
    if (rejects.length > 0) {
      deadLetters = deadLetters.then(async () => {
        await options.dlq.write(rejects);
        await options.dlq.flush();
      });
      pending.push(deadLetters);
      // Bad data is logged once per batch, not per record.
      logger.warn(
        { rejects: rejects.length, first: rejects[0].reason },
        'records sent to the dead-letter output',
      );
    }
    return pending;
  }

  function publishRouted(envelopes: readonly Envelope[], route: EventRoute): Promise<void>[] {
    const byTopic = new Map<string, BusRecord[]>();
    for (const env of envelopes) {
      const r = route(env);
      if (r === null) continue;
      const list = byTopic.get(r.topic);
      if (list) list.push(envelopeRecord(env, r.key));
      else byTopic.set(r.topic, [envelopeRecord(env, r.key)]);
    }
    return [...byTopic].map(([topic, records]) => options.bus.publish(topic, records));
  }

  return {
    ready: subscribed.promise,
    setMatcher(matcher) {
      // The worker loads the rules itself (the same files): a matcher does not cross threads.
      if (worker) worker.reload();
      else if (detection) detection.matcher = matcher;
    },
    async run() {
      try {
        await options.dlq.start();
        if (detection) matchPartitions = await partitionsOf(options.bus, detection.topic);
        if (worker) await worker.start(matchPartitions);
        else await lake?.start();
        started = true;
        subscription = await options.bus.subscribe({
          group: options.group,
          topics: options.topics.map((t) => t.topic),
          from: options.from ?? 'earliest',
          maxWaitMs: RAW_BATCH_WAIT_MS,
          // The memory bus's backlog is bounded by our commits, which wait for a lake flush.
          onStall: () => void loop.flush().catch(() => {}),
        });
        subscribed.resolve();
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      // A worker that dies while the role waits for records ends the consumption at once.
      worker?.onFailure(() => void subscription?.close().catch(() => {}));
      await loop.consume(worker ? paced(subscription, worker) : subscription);
      const failure = worker?.failure();
      if (failure)
        throw new SinkUnavailableError(`process role stopped: ${failure.message}`, { cause: failure });
    },
    async flush() {
      if (started) await loop.flush();
    },
    async stop() {
      const { lakeStopped } = started ? await loop.stop(STOP_FLUSH_MS) : { lakeStopped: false };
      await subscription?.close();
      if (started && lake && !lakeStopped) await lake.stop();
      await options.dlq.stop();
    },
  };
}

/** The subscription, its next batch pulled only once the worker has room (MAX_QUEUED_BATCHES). */
function paced(sub: Subscription, worker: ProcessWorker): Subscription {
  return {
    commit: (batch) => sub.commit(batch),
    commitOffsets: (offsets) => sub.commitOffsets(offsets),
    assignments: () => sub.assignments(),
    close: () => sub.close(),
    async *[Symbol.asyncIterator]() {
      for await (const batch of sub) {
        yield batch;
        await worker.whenQueueBelow(MAX_QUEUED_BATCHES);
      }
    },
  };
}

/** A topic's partition count, or undefined when it does not exist yet (then nothing is packed). */
async function partitionsOf(bus: Bus, topic: string): Promise<number | undefined> {
  const spec = (await bus.listTopics()).find((t) => t.name === topic);
  return spec && spec.partitions > 0 ? spec.partitions : undefined;
}
