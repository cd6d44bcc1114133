import { ShutdownTimeoutError } from './errors.ts';
import type { Logger } from './logger.ts';

/**
 * Graceful shutdown (issue 8): on SIGTERM/SIGINT run the steps in order — stop intake, drain,
 * flush, commit — and exit 0; if they take longer than `timeoutMs` (default 10 s) exit 1 with
 * SOC_SHUTDOWN_TIMEOUT; a second signal while shutting down exits at once (128 + signal number,
 * as shells report it). Offsets are committed only by the steps, so a forced exit redelivers
 * (at-least-once), never loses.
 */
export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

export interface ShutdownOptions {
  timeoutMs?: number;
  logger: Logger;
  signals?: readonly NodeJS.Signals[];
  /** Injected for tests; default process.exit. */
  exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Starts the shutdown as if a signal came (e.g. `demo --duration` ran out). */
  trigger(reason: string): Promise<void>;
  /** Removes the signal handlers (when the program ends by itself). */
  dispose(): void;
}

const SIGNAL_NUMBER: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export function onShutdown(steps: readonly ShutdownStep[], options: ShutdownOptions): ShutdownHandle {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signals = options.signals ?? (['SIGTERM', 'SIGINT'] as const);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | null = null;

  const runSteps = async (reason: string): Promise<void> => {
    const started = performance.now();
    logger.info({ reason, timeout_ms: timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      const err = new ShutdownTimeoutError(`shutdown did not finish within ${timeoutMs} ms`);
      logger.error({ code: err.code, elapsed_ms: Math.round(performance.now() - started) }, err.message);
      exit(1);
    }, timeoutMs);
    timer.unref();
    try {
      for (const step of steps) {
        const t0 = performance.now();
        await step.run();
        logger.info({ step: step.name, ms: Math.round(performance.now() - t0) }, 'shutdown step done');
      }
      clearTimeout(timer);
      logger.info({ ms: Math.round(performance.now() - started) }, 'shutdown complete');
      exit(0);
    } catch (err) {
      clearTimeout(timer);
      logger.error({ err }, 'shutdown step failed');
      exit(1);
    }
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      logger.warn({ signal }, 'second signal: forcing exit');
      exit(128 + (SIGNAL_NUMBER[signal] ?? 0));
      return;
    }
    running = runSteps(signal);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    trigger(reason) {
      running ??= runSteps(reason);
      return running;
    },
    dispose() {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
