import type { Bus, ConsumedBatch, Subscription } from '../bus/bus.ts';
import type { Config } from '../config/schema.ts';
import type { ComponentContext, Sink } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Envelope } from '../core/envelope.ts';
import { SinkUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Alert } from '../detect/alert.ts';
import { createCompactor } from '../lake/compactor.ts';
import { type AlertStore, createAlertStore } from '../sinks/alert-store.ts';
import { createLakeSink, type LakeSink, lakeDir } from '../sinks/parquet/sink.ts';
import type { EncodedEnvelope } from '../sinks/parquet/writer.ts';

/**
 * The store role: events.* topics → the Parquet lake, the alerts topic → the alert store.
 *
 * Offsets are committed only after the rename: every consumed batch is handed to the lake (and
 * the alert store) at once, and its commit is chained behind its own durability *and* the commit
 * of the batch before it, so commits go out in consumption order even though the lake completes
 * batches whenever a flush condition fires. Several batches are in flight at once (the lake
 * buffers up to flush_event_count events before anything is durable); `maxInFlightRecords` bounds
 * them: at the bound the role forces a lake flush and waits for the commits. A crash loses only
 * uncommitted work, which the bus delivers again with the same event ids (the lake then holds
 * duplicates until `socstream lake compact`).
 *
 * A record that is not a JSON envelope/alert is counted as a reject (`store_bad_record`) and
 * skipped: bad data never stops the role. An envelope is JSON-decoded once (to validate it and find
 * its log type and hour) and its text goes to the lake as it is: no re-encoding.
 *
 * Disk full: the lake blocks (writer.ts) instead of failing; the role then stops pulling batches
 * (nothing new is buffered, the consumer's lag grows, nothing is committed) and waits until the
 * lake is writable again, then goes on by itself: no restart, no loss.
 */
export interface StoreRoleOptions {
  bus: Bus;
  group: string;
  eventTopics: string[];
  /** Consumed into the alert store when both are given. */
  alertsTopic?: string;
  alertStore?: AlertStore;
  /** The lake; a LakeSink adds pass-through of the record text and disk-full backpressure. */
  lake: Sink & Partial<Pick<LakeSink, 'writeEncoded' | 'blocked' | 'whenWritable'>>;
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
const decoder = new TextDecoder('utf-8', { fatal: false });

interface Decoded {
  /** Each envelope with the JSON text it was decoded from. */
  envelopes: EncodedEnvelope[];
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
    let text: string;
    try {
      text = decoder.decode(record.value);
      value = JSON.parse(text);
    } catch {
      out.bad++;
      continue;
    }
    if (record.topic === alertsTopic) {
      if (isAlert(value)) out.alerts.push(value);
      else out.bad++;
    } else if (isEnvelope(value)) {
      // The text goes to the lake as its NDJSON line: it must be one line and carry every layer.
      if (value.raw == null || value.enriched == null || text.includes('\n')) {
        value.raw ??= {};
        value.enriched ??= {};
        text = JSON.stringify(value);
      }
      out.envelopes.push({ envelope: value, text });
    } else {
      out.bad++;
    }
  }
  return out;
}

function lastPerPartition(records: ConsumedBatch['records']): ConsumedBatch['records'] {
  const last = new Map<string, ConsumedBatch['records'][number]>();
  for (const r of records) last.set(`${r.topic}\u0000${r.partition}`, r);
  return [...last.values()];
}

export function createStoreRole(options: StoreRoleOptions): StoreRole {
  const logger: Logger = options.ctx.logger.child({ component: 'store' });
  const { telemetry } = options.ctx;
  const maxInFlight = options.maxInFlightRecords ?? DEFAULT_MAX_IN_FLIGHT_RECORDS;
  const alertsTopic = options.alertStore ? options.alertsTopic : undefined;
  let subscription: Subscription | undefined;
  let stopping = false;
  let started = false;
  /** Resolves once every batch handed on so far is committed; rejects on the first failure. */
  let commits: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failure: Error | null = null;
  const subscribed = deferred();

  function handOn(batch: ConsumedBatch, sub: Subscription): void {
    const decoded = decodeBatch(batch, alertsTopic);
    for (const r of batch.records) telemetry.busConsumed.inc({ topic: r.topic });
    if (decoded.bad > 0) {
      telemetry.rejects.inc({ source: 'bus', reason: 'store_bad_record' }, decoded.bad);
      logger.warn({ records: decoded.bad }, 'skipped records that are not JSON envelopes or alerts');
    }
    const durable: Promise<unknown>[] = [];
    const { lake } = options;
    if (decoded.envelopes.length > 0)
      durable.push(
        lake.writeEncoded
          ? lake.writeEncoded(decoded.envelopes)
          : lake.write(decoded.envelopes.map((e) => e.envelope)),
      );
    if (decoded.alerts.length > 0 && options.alertStore)
      durable.push(options.alertStore.upsert(decoded.alerts));
    const done = Promise.all(durable);
    done.catch(() => {}); // observed through the chain below
    const records = batch.records.length;
    // The commit needs only each partition's last record: let the others (and their bytes) go
    // while the batch waits for the lake.
    batch.records = lastPerPartition(batch.records);
    inFlight += records;
    telemetry.bufferFill.set({ stage: 'store' }, Math.min(1, inFlight / maxInFlight));
    commits = commits
      .then(() => done)
      .then(() => sub.commit(batch))
      .then(() => {
        inFlight -= records;
        telemetry.bufferFill.set({ stage: 'store' }, Math.min(1, inFlight / maxInFlight));
      });
    commits.catch((err: Error) => {
      if (failure) return;
      failure = err;
      // The loop may be waiting for a batch that never comes: leaving the group ends the
      // iteration (the role fails; what is uncommitted is consumed again). Not a Promise.race
      // against a long-lived promise: every race left a reaction on it holding its batch.
      void subscription?.close().catch(() => {});
    });
  }

  /** Backpressure: no next batch is pulled until the lake takes data again (or the role stops). */
  async function waitForLake(): Promise<void> {
    const t0 = Date.now();
    logger.warn(
      { in_flight: inFlight },
      'lake blocked (storage full): consumption paused, nothing committed',
    );
    telemetry.bufferFill.set({ stage: 'store' }, 1);
    await options.lake.whenWritable?.();
    logger.warn(
      { in_flight: inFlight, paused_s: Math.round((Date.now() - t0) / 100) / 10 },
      stopping ? 'stopping while the lake is blocked' : 'lake writable again: consumption resumed',
    );
  }

  return {
    ready: subscribed.promise,
    async run() {
      try {
        await options.lake.start();
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
      for await (const batch of sub) {
        if (failure) break;
        // A batch that arrives while the lake is blocked is held here, not handed on (the one
        // batch the role holds beyond what was in flight); stopping drops it uncommitted.
        if (options.lake.blocked?.() && !stopping) await waitForLake();
        if (stopping) break;
        handOn(batch, sub);
        if (options.lake.blocked?.() && !stopping) await waitForLake();
        if (inFlight >= maxInFlight && !stopping) {
          // Bounded memory and no deadlock: the held batches may all wait on one flush condition.
          await options.lake.flush();
          await commits.catch(() => {});
        }
        if (stopping) break;
      }
      if (failure) {
        throw new SinkUnavailableError(`store role stopped: ${(failure as Error).message}`, {
          cause: failure,
        });
      }
    },
    async flush() {
      if (!started || options.lake.blocked?.()) return;
      await options.lake.flush();
    },
    async stop() {
      stopping = true;
      let lakeStopped = false;
      if (started) {
        if (options.lake.blocked?.()) {
          // Flushing would wait for disk space: stop the lake instead (one last attempt per
          // blocked flush); what it could not write stays uncommitted and is consumed again.
          logger.warn(
            { in_flight: inFlight },
            'stopping with the lake blocked: uncommitted records are replayed',
          );
          await options.lake.stop();
          lakeStopped = true;
        } else {
          await options.lake.flush().catch((err) => logger.error({ err }, 'final lake flush failed'));
        }
        await commits.catch(() => {});
      }
      await subscription?.close();
      if (started) {
        if (!lakeStopped) await options.lake.stop();
        await options.alertStore?.close();
      }
    },
  };
}

/** The store role as configured: lake from `lake`, alert store from `alert_store`, topics from `topics`. */
export function buildStoreRole(
  config: Config,
  deps: { bus: Bus; ctx: Pick<ComponentContext, 'logger' | 'telemetry'>; group?: string },
): StoreRole {
  const ctx: ComponentContext = { ...deps.ctx, dataDir: config.data_dir, bus: deps.bus };
  const { network, auth, web, other, alerts } = config.topics;
  const role = createStoreRole({
    bus: deps.bus,
    group: deps.group ?? 'socstream-store',
    eventTopics: [network, auth, web, other],
    alertsTopic: alerts,
    alertStore: createAlertStore(config.alert_store, config.data_dir),
    lake: createLakeSink(config.lake, ctx),
    ctx: deps.ctx,
    maxInFlightRecords: config.lake.max_uncommitted_events,
  });
  // Issue 16: background compaction beside the lake writer (src/lake/compactor.ts); it starts
  // with the role and stops before it. Carry these lines along when the store moves.
  if (config.lake.compact_interval_seconds === 0) return role;
  const compactor = createCompactor({
    lakeDir: lakeDir(config.lake),
    intervalMs: config.lake.compact_interval_seconds * 1000,
    openHourMaxFiles: config.lake.compact_open_hour_max_files,
    memoryLimitMb: config.lake.compact_memory_limit_mb,
    logger: deps.ctx.logger,
    telemetry: deps.ctx.telemetry,
  });
  return {
    ...role,
    run: () => compactor.start().then(() => role.run()),
    stop: () => compactor.stop().then(() => role.stop()),
  };
}
