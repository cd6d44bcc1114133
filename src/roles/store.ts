import type { Bus, ConsumedBatch, Subscription } from '../core/bus.ts';
import type { ComponentContext, Sink } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import type { Alert } from '../detect/alert.ts';
import type { AlertStore } from '../sinks/alert-store.ts';
import type { LakeSink } from '../sinks/parquet/sink.ts';
import { DurableLoop } from './durable-loop.ts';

/**
 * The store role: the alerts topic → the alert store, and topics of envelopes that other producers
 * fill (`topics.lake_inputs`) → the Parquet lake. socstream's own events reach the lake in the
 * process role's single pass (process.ts), not through here.
 *
 * Offsets are committed only after the rename (and the alert store's upsert), in consumption
 * order, with what is uncommitted bounded and consumption paused while the lake's disk is full:
 * the loop the process role uses too (durable-loop.ts).
 *
 * A record that is not a JSON envelope/alert is counted as a reject (`store_bad_record`) and
 * skipped: bad data never stops the role. An envelope is JSON-decoded once (to validate it) and
 * handed to the lake as an object, which writes its typed columns.
 */
export interface StoreRoleOptions {
  bus: Bus;
  group: string;
  eventTopics: string[];
  /** Consumed into the alert store when both are given. */
  alertsTopic?: string;
  alertStore?: AlertStore;
  /** The lake, when the role has lake inputs; a LakeSink adds disk-full backpressure. */
  lake?: Sink & Partial<Pick<LakeSink, 'blocked' | 'whenWritable'>>;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  from?: 'earliest' | 'latest';
  maxBatchRecords?: number;
  /**
   * Consumed records not yet committed before the role forces a lake flush and waits (default
   * 200,000; config lake.max_uncommitted_events): the bound on what the role holds in memory. Keep
   * it above lake.flush_event_count, or every flush is a forced one.
   */
  maxInFlightRecords?: number;
}

export interface StoreRole {
  run(): Promise<void>;
  /** Resolves once the role's consumer group is subscribed (producers may start then). */
  readonly ready: Promise<void>;
  /**
   * Flushes what the lake buffers now (at shutdown, so the drain does not wait for
   * lake.flush_interval_seconds); the commits follow as usual. A no-op while the lake is blocked.
   */
  flush(): Promise<void>;
  /** Flushes the lake, commits what it made durable, leaves the group, closes the stores. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_IN_FLIGHT_RECORDS = 200_000;
/** stop() waits this long at most for the last flush and for the commits. */
const STOP_FLUSH_MS = 8000;
const decoder = new TextDecoder('utf-8', { fatal: false });

interface Decoded {
  envelopes: Envelope[];
  alerts: Alert[];
  bad: number;
}

function isEnvelope(v: unknown): v is Envelope {
  const e = v as Envelope;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.log_type === 'string' &&
    typeof e.normalized === 'object' &&
    e.normalized !== null
  );
}

function isAlert(v: unknown): v is Alert {
  const a = v as Alert;
  return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.rule_id === 'string';
}

/** Splits a batch into envelopes and alerts; undecodable records are counted, not thrown. */
export function decodeBatch(batch: ConsumedBatch, alertsTopic: string | undefined): Decoded {
  const out: Decoded = { envelopes: [], alerts: [], bad: 0 };
  for (const record of batch.records) {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(record.value));
    } catch {
      out.bad++;
      continue;
    }
    if (record.topic === alertsTopic) {
      if (isAlert(value)) out.alerts.push(value);
      else out.bad++;
    } else if (isEnvelope(value)) {
      value.raw ??= {};
      value.enriched ??= {};
      out.envelopes.push(value);
    } else {
      out.bad++;
    }
  }
  return out;
}

export function createStoreRole(options: StoreRoleOptions): StoreRole {
  const logger: Logger = options.ctx.logger.child({ component: 'store' });
  const { telemetry } = options.ctx;
  const { lake } = options;
  const alertsTopic = options.alertStore ? options.alertsTopic : undefined;
  let subscription: Subscription | undefined;
  let started = false;
  const subscribed = deferred();

  function handOn(batch: ConsumedBatch): Promise<unknown> {
    const decoded = decodeBatch(batch, alertsTopic);
    for (const r of batch.records) telemetry.busConsumed.inc({ topic: r.topic });
    if (decoded.bad > 0) {
      telemetry.rejects.inc({ source: 'bus', reason: 'store_bad_record' }, decoded.bad);
      logger.warn({ records: decoded.bad }, 'skipped records that are not JSON envelopes or alerts');
    }
    const durable: Promise<unknown>[] = [];
    if (lake && decoded.envelopes.length > 0) durable.push(lake.write(decoded.envelopes));
    if (decoded.alerts.length > 0 && options.alertStore)
      durable.push(options.alertStore.upsert(decoded.alerts));
    return Promise.all(durable);
  }

  const loop = new DurableLoop({
    stage: 'store',
    ctx: { logger, telemetry },
    lake,
    maxInFlightRecords: options.maxInFlightRecords ?? DEFAULT_MAX_IN_FLIGHT_RECORDS,
    handOn,
  });

  return {
    ready: subscribed.promise,
    async run() {
      try {
        await lake?.start();
        await options.alertStore?.start();
        started = true;
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      const topics = alertsTopic ? [...options.eventTopics, alertsTopic] : [...options.eventTopics];
      const sub = await options.bus.subscribe({
        group: options.group,
        topics,
        from: options.from ?? 'earliest',
        maxBatchRecords: options.maxBatchRecords,
      });
      subscription = sub;
      subscribed.resolve();
      logger.info({ topics, group: options.group }, 'store role consuming');
      await loop.consume(sub);
    },
    async flush() {
      if (started) await loop.flush();
    },
    async stop() {
      const { lakeStopped } = started ? await loop.stop(STOP_FLUSH_MS) : { lakeStopped: false };
      await subscription?.close();
      if (started) {
        if (lake && !lakeStopped) await lake.stop();
        await options.alertStore?.close();
      }
    },
  };
}
