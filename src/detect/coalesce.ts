import type { Alert } from './alert.ts';

/**
 * Alerts without noise (issue 15): the detector hands out an alert again every time a batch folds
 * more events into it (a brute force updates its alert on every attempt). Between the detector and
 * the outputs, the coalescer lets a new alert through at once and holds its updates: at most one
 * update per alert per `intervalMs` (processing time) goes out, always the latest state, and every
 * held update is released when its interval has passed (`due`) or at the end (`flush`: end of
 * input, shutdown), so the last state of every alert is always published. Updates are marked
 * `update: true`, so a console can print new alerts only.
 */
export type PublishedAlert = Alert & { update?: true };

export interface AlertCoalescerOptions {
  /** Least time between two publications of one alert (alerts.update_interval_seconds). */
  intervalMs: number;
  /** Processing clock (tests pin it). */
  now?: () => number;
  /** Alerts remembered as published; the least recently published are forgotten first. */
  maxTracked?: number;
}

export interface AlertCoalescer {
  /** The detector's output → what to publish now (new alerts, updates whose interval passed). */
  offer(alerts: readonly Alert[]): PublishedAlert[];
  /** Held updates whose interval has passed (call on a timer or with every batch). */
  due(): PublishedAlert[];
  /** Every held update, now. */
  flush(): PublishedAlert[];
  /** Updates waiting. */
  held(): number;
}

const DEFAULT_MAX_TRACKED = 200_000;

export function isUpdate(alert: Alert): boolean {
  return (alert as PublishedAlert).update === true;
}

export function createAlertCoalescer(options: AlertCoalescerOptions): AlertCoalescer {
  const now = options.now ?? Date.now;
  const maxTracked = options.maxTracked ?? DEFAULT_MAX_TRACKED;
  // id → when it was last published; Map order = publication order (re-inserted on publish).
  const published = new Map<string, number>();
  const waiting = new Map<string, Alert>();

  const publish = (a: Alert, t: number, update: boolean): PublishedAlert => {
    published.delete(a.id);
    published.set(a.id, t);
    if (published.size > maxTracked) {
      // Forget the oldest publication that has nothing waiting.
      for (const id of published.keys()) {
        if (waiting.has(id)) continue;
        published.delete(id);
        break;
      }
    }
    return update ? { ...a, update: true } : a;
  };

  const due = (t: number): PublishedAlert[] => {
    const out: PublishedAlert[] = [];
    for (const [id, a] of waiting) {
      if (t - (published.get(id) ?? Number.NEGATIVE_INFINITY) < options.intervalMs) continue;
      waiting.delete(id);
      out.push(publish(a, t, true));
    }
    return out;
  };

  return {
    offer(alerts) {
      const t = now();
      const out = due(t);
      for (const a of alerts) {
        const last = published.get(a.id);
        if (last === undefined) {
          out.push(publish(a, t, false));
        } else if (t - last >= options.intervalMs) {
          waiting.delete(a.id);
          out.push(publish(a, t, true));
        } else {
          waiting.set(a.id, a);
        }
      }
      return out;
    },
    due: () => due(now()),
    flush() {
      const t = now();
      const out: PublishedAlert[] = [];
      for (const a of waiting.values()) out.push(publish(a, t, true));
      waiting.clear();
      return out;
    },
    held: () => waiting.size,
  };
}

/** The part of an alert output (src/sinks/alert-output.ts) the coalescer wraps. */
interface Output {
  readonly name: string;
  write(alerts: readonly Alert[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An alert output behind a coalescer: new alerts go through with their batch, updates at most once
 * per alert per interval (released with later batches, or by a timer when the stream is quiet), and
 * every held update is written before `stop` stops the inner output.
 */
export function coalescingOutput<O extends Output>(
  inner: O,
  options: AlertCoalescerOptions & { tickMs?: number },
): Output {
  const coalescer = createAlertCoalescer(options);
  // Writes stay in order: a timer release waits for the batch before it.
  let chain: Promise<void> = Promise.resolve();
  const send = (alerts: PublishedAlert[]): Promise<void> => {
    if (alerts.length === 0) return Promise.resolve();
    // A failed write is reported to its own caller and does not block the ones after it.
    const written = chain.catch(() => {}).then(() => inner.write(alerts));
    chain = written;
    return written;
  };
  const tickMs = options.tickMs ?? Math.max(250, Math.min(options.intervalMs, 5000));
  const timer = setInterval(() => {
    send(coalescer.due()).catch(() => {
      // The next write reports the failure to its caller; a timer has nobody to report to.
    });
  }, tickMs);
  timer.unref();
  return {
    name: inner.name,
    write: (alerts) => send(coalescer.offer(alerts)),
    async stop() {
      clearInterval(timer);
      await send(coalescer.flush()).catch(() => {});
      await inner.stop();
    },
  };
}
