import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.ts';
import type { Envelope, Reject } from '../core/envelope.ts';
import { InternalError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { createEventMatcher, type EventMatcher } from '../detect/detector.ts';
import type { MatchMessage } from '../detect/matches.ts';
import { buildEngine, detectorOptions, type Engine } from '../pipeline/engine.ts';
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
if (port === null) throw new InternalError('process-worker-thread.ts runs as a worker thread only');
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

/**
 * Records processed and handed to the lake at a time: a consumed batch (up to ~7,000 records) is
 * taken in chunks at record boundaries, so its envelopes do not all live at once and die young
 * (the worker's heap stays small). Matching per chunk gives the same messages and seqs.
 */
const CHUNK_RECORDS = 512;

function onBatch(id: number, packed: PackedBatch): void {
  if (engine === undefined || lake === undefined) throw new InternalError('process worker not started');
  const records = unpackBatch(packed);
  const matches: MatchMessage[] = [];
  const rejects: Reject[] = [];
  const counts: Array<[string, string, number]> = [];
  const kept: Envelope[] = [];
  const writes: Promise<void>[] = [];
  for (let i = 0; i < records.length; i += CHUNK_RECORDS) {
    const chunk = processRecords(records.slice(i, i + CHUNK_RECORDS), formatOf, engine.processor, matcher);
    for (const m of chunk.matches) matches.push(m);
    for (const r of chunk.rejects) rejects.push(r);
    for (const c of eventCounts(chunk.envelopes)) counts.push(c);
    if (chunk.envelopes.length > 0) {
      if (init.wantEnvelopes) for (const e of chunk.envelopes) kept.push(e);
      writes.push(lake.write(chunk.envelopes));
    }
  }
  const reply: Extract<ToMain, { type: 'processed' }> = {
    type: 'processed',
    id,
    matches: [],
    rejects,
    counts,
  };
  let transfer: ArrayBuffer[] = [];
  if (!init.encodeMatches) reply.matches = matches;
  else if (matches.length > 0) {
    const encoded = packRecords(matchRecords(matches, init.matchPartitions));
    reply.matchRecords = encoded.packed;
    transfer = encoded.transfer;
  }
  if (kept.length > 0) reply.envelopes = kept;
  port?.postMessage(reply, transfer);
  Promise.all(writes).then(
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
