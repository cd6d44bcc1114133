/**
 * Loads one thing and refreshes it without ever stacking requests: the next refresh is scheduled
 * only once the previous answer (or failure) is in, so a query slower than the refresh interval
 * delays the refreshes instead of being thrown away by them. The last good data is kept through
 * slow answers and failures; `stale` says it is no longer current. No DOM, no Preact: unit-tested
 * under Node (test/web/poller.test.ts), used by useApi (hooks.ts).
 */
export interface PollState<T> {
  data: T | null;
  error: string | null;
  /** A request is running. */
  loading: boolean;
  /** Epoch ms of the last successful answer (null before the first). */
  updatedAt: number | null;
  /** The data shown is older than it should be: the last refresh failed or is late. */
  stale: boolean;
}

export interface PollerOptions<T> {
  load: (signal: AbortSignal) => Promise<T>;
  onChange: (state: PollState<T>) => void;
  /** Refresh this long after the previous answer; 0 or undefined: load once. */
  refreshMs?: number;
  /** A request running longer than this marks the data stale (default: refreshMs, else 10 s). */
  lateAfterMs?: number;
  /** Data to show until the first answer (kept from a previous query, marked stale). */
  initial?: T | null;
  /** When `initial` was loaded (epoch ms), for the stale marker. */
  initialUpdatedAt?: number | null;
  now?: () => number;
}

export interface Poller {
  start(): void;
  /** Loads now, unless a request is already running (then its answer is the reload). */
  reload(): void;
  stop(): void;
}

export function createPoller<T>(options: PollerOptions<T>): Poller {
  const now = options.now ?? Date.now;
  const lateAfterMs = options.lateAfterMs ?? (options.refreshMs || 10_000);
  let state: PollState<T> = {
    data: options.initial ?? null,
    error: null,
    loading: false,
    updatedAt: options.initialUpdatedAt ?? null,
    stale: (options.initial ?? null) !== null,
  };
  let controller: AbortController | null = null;
  let nextTimer: ReturnType<typeof setTimeout> | undefined;
  let lateTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const set = (change: Partial<PollState<T>>) => {
    state = { ...state, ...change };
    options.onChange(state);
  };

  const schedule = () => {
    clearTimeout(nextTimer);
    if (!stopped && options.refreshMs) nextTimer = setTimeout(run, options.refreshMs);
  };

  function run(): void {
    if (stopped || controller) return;
    clearTimeout(nextTimer);
    const mine = new AbortController();
    controller = mine;
    set({ loading: true });
    lateTimer = setTimeout(() => {
      if (controller === mine && state.data !== null) set({ stale: true });
    }, lateAfterMs);
    options
      .load(mine.signal)
      .then(
        (data) => {
          if (controller !== mine) return;
          set({ data, error: null, loading: false, updatedAt: now(), stale: false });
        },
        (err: unknown) => {
          if (controller !== mine) return;
          set({
            error: err instanceof Error ? err.message : String(err),
            loading: false,
            stale: state.data !== null,
          });
        },
      )
      .finally(() => {
        if (controller !== mine) return;
        clearTimeout(lateTimer);
        controller = null;
        schedule();
      });
  }

  return {
    start: run,
    reload: run,
    stop() {
      stopped = true;
      clearTimeout(nextTimer);
      clearTimeout(lateTimer);
      controller?.abort();
      controller = null;
    },
  };
}
