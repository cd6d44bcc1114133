import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';

/**
 * The periodic health line (issue 8, like the Zeek → Parquet seed's): memory, buffer fill and
 * event rate, read from the telemetry registry so the log and /metrics always agree.
 */
export interface HealthSnapshot {
  rss_mb: number;
  heap_used_mb: number;
  /** Off-heap memory Node tracks (Buffers: fetched Kafka records, file I/O); native DuckDB is not in it. */
  external_mb: number;
  /** Sinks waiting for their storage (lake disk full): their input is not consumed. */
  blocked_sinks: string[];
  /** Fullest bounded buffer, percent (0..100), and each stage's fill. */
  buffer_pct: number;
  buffers: Record<string, number>;
  /** Events accepted from sources since the previous line, per second. */
  events_per_s: number;
  events_total: number;
}

export interface HealthLogOptions {
  telemetry: Telemetry;
  logger: Logger;
  /** Default 30 s. */
  intervalMs?: number;
}

async function sumOf(telemetry: Telemetry, name: string): Promise<number> {
  const metric = telemetry.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) sum += v.value;
  return sum;
}

async function blockedSinks(telemetry: Telemetry): Promise<string[]> {
  const { values } = await telemetry.sinkBlocked.get();
  return values.filter((v) => v.value > 0).map((v) => String(v.labels.sink ?? ''));
}

async function buffers(telemetry: Telemetry): Promise<Record<string, number>> {
  const { values } = await telemetry.bufferFill.get();
  const out: Record<string, number> = {};
  for (const v of values) out[String(v.labels.stage ?? '')] = Math.round(v.value * 1000) / 10;
  return out;
}

const mb = (bytes: number): number => Math.round(bytes / 104857.6) / 10;

/** Builds one snapshot; `previous` gives the counter value and time of the last one. */
export async function healthSnapshot(
  telemetry: Telemetry,
  previous: { eventsTotal: number; atMs: number },
  nowMs: number,
): Promise<HealthSnapshot> {
  const memory = process.memoryUsage();
  const fills = await buffers(telemetry);
  const eventsTotal = await sumOf(telemetry, 'socstream_events_in_total');
  const seconds = (nowMs - previous.atMs) / 1000;
  return {
    rss_mb: mb(memory.rss),
    heap_used_mb: mb(memory.heapUsed),
    external_mb: mb(memory.external),
    blocked_sinks: await blockedSinks(telemetry),
    buffer_pct: Math.max(0, ...Object.values(fills)),
    buffers: fills,
    events_per_s: seconds > 0 ? Math.round(((eventsTotal - previous.eventsTotal) / seconds) * 10) / 10 : 0,
    events_total: eventsTotal,
  };
}

/** Logs a `health` line every interval until stopped; the timer never keeps the process alive. */
export function startHealthLog(options: HealthLogOptions): { stop(): void } {
  const { telemetry, logger } = options;
  const previous = { eventsTotal: 0, atMs: performance.now() };
  const tick = async () => {
    const now = performance.now();
    const snapshot = await healthSnapshot(telemetry, previous, now);
    previous.eventsTotal = snapshot.events_total;
    previous.atMs = now;
    if (snapshot.blocked_sinks.length > 0) logger.warn(snapshot, 'health: sink blocked on its storage');
    else logger.info(snapshot, 'health');
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
