import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.ts';
import type { Envelope } from '../core/envelope.ts';
import { createLogger } from '../core/logger.ts';
import { createEventMatcher, type EventMatcher } from '../detect/detector.ts';
import { buildEngine, detectorOptions, type Engine } from '../pipeline/build.ts';
import { createLakeSink, type LakeSink } from '../sinks/parquet/sink.ts';
import { matchRecords } from './codec.ts';
import { eventCounts, processRecords } from './process-batch.ts';
import { type PackedBatch, packRecords, unpackBatch } from './process-worker-codec.ts';
import type { ToMain, ToWorker, WorkerInit } from './process-worker-protocol.ts';
import { recordingTelemetry } from './process-worker-telemetry.ts';

/**
 * The process worker (see process-worker.ts): the process role's CPU work on its own thread —
 * parse → normalize → enrich → single-event match, the lake's columns, DuckDB appends and flushes.
 * Built from the same config as the role; messages are handled one after the other, so batches
 * are processed in the order they were consumed and a rule reload applies from the next batch.
 */
const port = parentPort;
if (port === null) throw new Error('process-worker-thread.ts runs as a worker thread only');
const init = workerData as WorkerInit;
const config = init.config as Config;
const logger = createLogger({ level: config.log_level, pretty: false }).child({
  component: 'process-worker',
});
// Metrics are recorded here and counted on the role's thread (process-worker-telemetry.ts).
const recorded = recordingTelemetry();
const { telemetry } = recorded;
/** How often recorded metrics go to the role's thread besides each batch's durability. */
const METRICS_INTERVAL_MS = 500;
const formatOf = new Map(init.topics.map((t) => [t.topic, t.format]));

let engine: Engine | undefined;
let matcher: EventMatcher | undefined;
let lake: LakeSink | undefined;
let blocked = false;
let blockTimer: NodeJS.Timeout | undefined;
let metricsTimer: NodeJS.Timeout | undefined;

function post(message: ToMain): void {
  port?.postMessage(message);
}

/** Sends what the metrics recorded since the last time, if anything. */
function postMetrics(): void {
  const ops = recorded.drain();
  if (ops !== null) post({ type: 'metrics', ops });
}

/** Tells the role when the lake blocks (storage full) or takes data again. */
function reportBlocked(): void {
  const now = lake?.blocked() === true;
  if (now !== blocked) {
    blocked = now;
    post({ type: 'blocked', blocked: now });
  }
}

async function start(): Promise<void> {
  engine = buildEngine(config, { logger, telemetry }, init.file);
  await engine.enricher.start();
  if (init.detection) matcher = createEventMatcher(detectorOptions(config, { logger, telemetry }));
  lake = createLakeSink(config.lake, { logger, telemetry, dataDir: config.data_dir });
  await lake.start();
  blockTimer = setInterval(reportBlocked, 250);
  blockTimer.unref();
  metricsTimer = setInterval(postMetrics, METRICS_INTERVAL_MS);
  metricsTimer.unref();
}

function onBatch(id: number, packed: PackedBatch): void {
  if (engine === undefined || lake === undefined) throw new Error('process worker not started');
  const processed = processRecords(unpackBatch(packed), formatOf, engine.processor, matcher);
  const { envelopes } = processed;
  const reply: Extract<ToMain, { type: 'processed' }> = {
    type: 'processed',
    id,
    matches: [],
    rejects: processed.rejects,
    counts: eventCounts(envelopes),
  };
  let transfer: ArrayBuffer[] = [];
  if (!init.encodeMatches) reply.matches = processed.matches;
  else if (processed.matches.length > 0) {
    const packed = packRecords(matchRecords(processed.matches, init.matchPartitions));
    reply.matchRecords = packed.packed;
    transfer = packed.transfer;
  }
  if (init.wantEnvelopes && envelopes.length > 0) reply.envelopes = envelopes;
  port?.postMessage(reply, transfer);
  if (envelopes.length === 0) {
    post({ type: 'durable', id });
    return;
  }
  lake.write(envelopes as Envelope[]).then(
    () => {
      // The lake's counts (events out, flushes) reach /metrics with the ack that follows them.
      postMetrics();
      post({ type: 'durable', id });
    },
    (err: Error) => post({ type: 'failed', id, message: err.message }),
  );
  reportBlocked();
}

async function onRequest(message: Extract<ToWorker, { id: number }>): Promise<void> {
  try {
    if (message.type === 'flush') await lake?.flush();
    else if (message.type === 'stop') {
      if (blockTimer) clearInterval(blockTimer);
      const heap = getHeapStatistics();
      logger.info(
        {
          heap_used_mb: Math.round(heap.used_heap_size / 1048576),
          heap_total_mb: Math.round(heap.total_heap_size / 1048576),
          heap_limit_mb: Math.round(heap.heap_size_limit / 1048576),
          external_mb: Math.round(heap.external_memory / 1048576),
        },
        'process worker stopping',
      );
      await lake?.stop();
      await engine?.enricher.stop();
      if (metricsTimer) clearInterval(metricsTimer);
    }
    postMetrics();
    post({ type: 'done', id: message.id });
  } catch (err) {
    post({ type: 'failed', id: message.id, message: (err as Error).message });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'batch':
      onBatch(message.id, message.packed);
      break;
    case 'reload':
      // The rules as the files hold them now: the next batch is matched with them.
      matcher = createEventMatcher(detectorOptions(config, { logger, telemetry }));
      break;
    default:
      void onRequest(message);
  }
});

start().then(
  () => post({ type: 'ready' }),
  (err: Error) => post({ type: 'fatal', message: err.message, stack: err.stack }),
);
