import type { Bus, BusRecord, ConsumedBatch, Subscription } from '../core/bus.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope, InputRecord, Reject } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import type { EventMatcher } from '../detect/detector.ts';
import type { MatchMessage } from '../detect/matches.ts';
import { envelopeRecord, inputFromRaw, matchRecords } from './codec.ts';
import { DurableLoop, type RoleLake } from './durable-loop.ts';

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

/** Parse → normalize → enrich of one record (src/pipeline/processor.ts). */
export interface RecordProcessor {
  process(
    record: InputRecord,
    stream: string,
    out: { envelopes: Envelope[]; rejects: Reject[]; skipped: number },
  ): void;
}

/** Where an event goes beyond the lake: a topic and its key, or nowhere (null). */
export type EventRoute = (env: Envelope) => { topic: string; key: string | null } | null;

export interface ProcessRoleOptions {
  bus: Bus;
  group: string;
  /** Topics to consume, with the format of each when known (kafka sources name it). */
  topics: Array<{ topic: string; format?: string }>;
  processor: RecordProcessor;
  /** The lake, written in the same pass; without one the role commits once its outputs acked. */
  lake?: RoleLake;
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

/** The stream a consumed raw record belongs to: its topic-partition and key (a file, a peer). */
export function streamOf(topic: string, partition: number, key: string | null): string {
  return `${topic}\u0000${partition}\u0000${key ?? ''}`;
}

/** What one consumed batch gave. */
interface Processed {
  envelopes: Envelope[];
  rejects: Reject[];
  matches: MatchMessage[];
}

export function createProcessRole(options: ProcessRoleOptions): ProcessRole {
  const logger: Logger = options.ctx.logger.child({ component: 'process' });
  const { telemetry } = options.ctx;
  const { lake } = options;
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
      const processed = processBatch(batch);
      const done = handOn(processed);
      if (options.onEvents && processed.envelopes.length > 0) {
        const events = processed.envelopes;
        done.then(() => options.onEvents?.(events)).catch(() => {});
      }
      return done;
    },
  });

  /** Parse → normalize → enrich → match, for one consumed batch. */
  function processBatch(batch: ConsumedBatch): Processed {
    const out = { envelopes: [] as Envelope[], rejects: [] as Reject[], skipped: 0 };
    const matches: MatchMessage[] = [];
    /** The input offset of each envelope: the seq of its matches (a replay counts once). */
    const offsets: number[] = [];
    // Envelopes are matched per run of records from one input partition: each message carries
    // its origin partition and that partition's event clock (per-partition watermarks).
    let runStart = 0;
    let runOrigin = '';
    let runTopic = '';
    let runPartition = -1;
    for (const record of batch.records) {
      if (detection && (record.partition !== runPartition || record.topic !== runTopic)) {
        matchRun(runStart, runOrigin);
        runStart = out.envelopes.length;
        runTopic = record.topic;
        runPartition = record.partition;
        runOrigin = `${record.topic}:${record.partition}`;
      }
      const input = inputFromRaw(record, formatOf.get(record.topic));
      options.processor.process(input, streamOf(record.topic, record.partition, record.key), out);
      if (detection) {
        const offset = Number(record.offset);
        while (offsets.length < out.envelopes.length) offsets.push(offset);
      }
    }
    matchRun(runStart, runOrigin);
    return { envelopes: out.envelopes, rejects: out.rejects, matches };

    function matchRun(start: number, origin: string): void {
      if (detection && out.envelopes.length > start)
        detection.matcher.matchEvents(out.envelopes.slice(start), origin, matches, offsets.slice(start));
    }
  }

  /** Starts every write a batch needs; the promise resolves once all are durable or acked. */
  function handOn(processed: Processed): Promise<unknown> {
    const { envelopes, rejects, matches } = processed;
    countEvents(envelopes, telemetry);
    for (const r of rejects) telemetry.rejects.inc({ source: r.source, reason: r.reason });
    const pending: Promise<unknown>[] = [];
    // Matches first: detection latency does not wait for the lake.
    if (detection && matches.length > 0)
      pending.push(options.bus.publish(detection.topic, matchRecords(matches, matchPartitions)));
    if (options.route) for (const p of publishRouted(envelopes, options.route)) pending.push(p);
    if (lake && envelopes.length > 0) pending.push(lake.write(envelopes));
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
    return Promise.all(pending);
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
      if (detection) detection.matcher = matcher;
    },
    async run() {
      try {
        await options.dlq.start();
        await lake?.start();
        if (detection) matchPartitions = await partitionsOf(options.bus, detection.topic);
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
      await loop.consume(subscription);
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

/** A topic's partition count, or undefined when it does not exist yet (then nothing is packed). */
async function partitionsOf(bus: Bus, topic: string): Promise<number | undefined> {
  const spec = (await bus.listTopics()).find((t) => t.name === topic);
  return spec && spec.partitions > 0 ? spec.partitions : undefined;
}

/**
 * socstream_events_in_total by source and log type, one increment per run of equal labels (a batch
 * is mostly one log type): a label lookup per event costs more than the rest of the counting.
 */
function countEvents(
  envelopes: readonly Envelope[],
  telemetry: ProcessRoleOptions['ctx']['telemetry'],
): void {
  let i = 0;
  while (i < envelopes.length) {
    const { source, log_type } = envelopes[i];
    let j = i + 1;
    while (j < envelopes.length && envelopes[j].log_type === log_type && envelopes[j].source === source) j++;
    telemetry.eventsIn.inc({ source, log_type }, j - i);
    i = j;
  }
}
