import { QueryRejectedError } from '../core/errors.ts';

/**
 * A bound on the lake queries that run at once, with a bounded queue in front: a query waits for
 * a slot (FIFO) until its deadline; a full queue refuses at once (HTTP 429), and a query whose
 * deadline passes while it waits is refused without ever starting (DuckDB never sees it). The API
 * keeps one pool per audience (viewers' built queries, admins' SQL), so an admin's heavy SQL never
 * holds a slot a viewer's event search needs.
 */
export class QueryBusyError extends QueryRejectedError {}

export interface QueryPoolOptions {
  name: string;
  /** Queries running at once. */
  maxConcurrent: number;
  /** Queries waiting for a slot; one more is refused (QueryBusyError). */
  maxQueued: number;
  /** Called when a query is refused: 'busy' (queue full) or 'timeout' (deadline passed waiting). */
  onReject?: (reason: 'busy' | 'timeout') => void;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export interface QueryPool {
  readonly name: string;
  /** Runs `task` in a slot; `deadline` is epoch ms (performance.now() based: see below). */
  run<T>(deadline: number, task: () => Promise<T>): Promise<T>;
  running(): number;
  queued(): number;
}

/** Deadlines are on performance.now()'s clock (monotonic). */
/** A query granted a slot with less time than this before its deadline is refused, not started. */
export const MIN_RUN_MS = 10;

export function createQueryPool(options: QueryPoolOptions): QueryPool {
  let active = 0;
  const waiting: Waiter[] = [];

  function release(): void {
    const next = waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant();
    } else {
      active--;
    }
  }

  function acquire(deadline: number): Promise<void> {
    if (active < options.maxConcurrent) {
      active++;
      return Promise.resolve();
    }
    if (waiting.length >= options.maxQueued) {
      options.onReject?.('busy');
      return Promise.reject(
        new QueryBusyError(
          `the ${options.name} query pool is full (${options.maxConcurrent} running, ${options.maxQueued} waiting): retry later`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The slot passes straight from the releasing query to this one (active stays the same).
        grant: resolve,
        timer: setTimeout(
          () => {
            const i = waiting.indexOf(waiter);
            if (i >= 0) waiting.splice(i, 1);
            options.onReject?.('timeout');
            reject(new QueryRejectedError('query timed out while waiting for a free query slot'));
          },
          Math.max(0, deadline - performance.now()),
        ),
      };
      waiting.push(waiter);
    });
  }

  return {
    name: options.name,
    async run(deadline, task) {
      await acquire(deadline);
      try {
        // Timers may fire a little before performance.now() reaches their time: a query granted its
        // slot with (almost) nothing left would start only to be interrupted at once.
        if (deadline - performance.now() < MIN_RUN_MS) {
          options.onReject?.('timeout');
          throw new QueryRejectedError('query timed out before it started');
        }
        return await task();
      } finally {
        release();
      }
    },
    running: () => active,
    queued: () => waiting.length,
  };
}
