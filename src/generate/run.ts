import { setTimeout as sleep } from 'node:timers/promises';
import type { Generator } from './generator.ts';
import type { LineOutput } from './output.ts';
import { TokenBucket } from './pace.ts';

export interface RunOptions {
  generator: Generator;
  output: LineOutput;
  /** Lines to write; Infinity runs until the signal aborts. */
  total: number;
  /** Wall-clock events/s (token bucket); undefined writes as fast as the output takes them. */
  rate?: number;
  signal?: AbortSignal;
  /**
   * Writes allowed in flight at once (default 1). More hides a round trip per batch (Kafka acks)
   * so the rate holds; order is kept by the output (a stream, or one Kafka producer whose
   * idempotent in-flight requests keep partition order).
   */
  maxInFlight?: number;
  /** Called at most every `progressEveryMs` with the running count. */
  onProgress?: (events: number, elapsedMs: number) => void;
  progressEveryMs?: number;
  now?: () => number;
}

export interface RunStats {
  events: number;
  elapsedMs: number;
  /** events / elapsed seconds, the rate actually achieved on the wall clock. */
  eventsPerSecond: number;
}

const BATCH = 1000;

/** Drives a generator into an output, paced or flat out, and measures what it achieved. */
export async function runGeneration(o: RunOptions): Promise<RunStats> {
  const now = o.now ?? (() => performance.now());
  const bucket = o.rate ? new TokenBucket(o.rate, { now }) : undefined;
  const started = now();
  let lastProgress = started;
  const every = o.progressEveryMs ?? 1000;
  let events = 0;
  const inFlight: Promise<void>[] = [];
  const maxInFlight = o.maxInFlight ?? 1;
  while (events < o.total && !o.signal?.aborted && !o.output.ended?.()) {
    const want = Math.min(BATCH, o.total - events);
    const n = bucket ? bucket.take(want) : want;
    if (n === 0) {
      await sleep(Math.max(1, Math.ceil(bucket!.waitMs())), undefined, { signal: o.signal }).catch(() => {});
      continue;
    }
    const items = new Array(n);
    for (let i = 0; i < n; i++) items[i] = o.generator.nextItem();
    inFlight.push(o.output.write(items));
    if (inFlight.length >= maxInFlight) await inFlight.shift();
    events += n;
    const t = now();
    if (o.onProgress && t - lastProgress >= every) {
      lastProgress = t;
      o.onProgress(events, t - started);
    }
  }
  await Promise.all(inFlight);
  const elapsedMs = now() - started;
  return { events, elapsedMs, eventsPerSecond: elapsedMs > 0 ? (events * 1000) / elapsedMs : 0 };
}
