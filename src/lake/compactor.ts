import type { Health } from '../core/component.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { COMPACT_DEFAULTS, type CompactOptions, compactLake, lakeInventory } from './compact.ts';

/**
 * The background compactor: every `intervalMs` it compacts the lake (compact.ts: closed hours into
 * a few deduplicated files with their rollups, the open hour when it has too many files), then
 * takes an inventory for the metrics and the health check. It runs in the process that writes the
 * lake, beside the writer, without blocking it: DuckDB works on its own thread (one, with its own
 * memory limit), the writer's files are never locked, and only a run's own inputs are deleted.
 * One run at a time; stop() waits for the partition in progress and leaves the rest for later.
 */
export interface CompactorOptions
  extends Pick<CompactOptions, 'closeAfterMs' | 'openHourMaxFiles' | 'memoryLimitMb'> {
  lakeDir: string;
  /** Pause between runs; default 60 s. */
  intervalMs?: number;
  /** The health check fails when a closed hour waits longer than this; default 30 min. */
  maxLagMs?: number;
  logger: Logger;
  telemetry?: Telemetry;
}

export interface Compactor {
  start(): Promise<void>;
  /** Runs one compaction now (tests, shutdown hooks); resolves when it ends. */
  runOnce(): Promise<void>;
  healthcheck(): Promise<Health>;
  stop(): Promise<void>;
}

export const COMPACTOR_DEFAULTS = { intervalMs: 60_000, maxLagMs: 30 * 60_000 } as const;

export function createCompactor(options: CompactorOptions): Compactor {
  const logger = options.logger.child({ component: 'lake-compactor' });
  const intervalMs = options.intervalMs ?? COMPACTOR_DEFAULTS.intervalMs;
  const maxLagMs = options.maxLagMs ?? COMPACTOR_DEFAULTS.maxLagMs;
  const closeAfterMs = options.closeAfterMs ?? COMPACT_DEFAULTS.closeAfterMs;
  const { telemetry } = options;
  let abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let lagSeconds = 0;
  let lastError: string | null = null;

  async function once(): Promise<void> {
    const started = performance.now();
    try {
      const stats = await compactLake({
        lakeDir: options.lakeDir,
        closeAfterMs,
        openHourMaxFiles: options.openHourMaxFiles,
        memoryLimitMb: options.memoryLimitMb,
        signal: abort.signal,
        onPartition: (r) => {
          telemetry?.lakeCompactions.inc({ log_type: r.logType, hour: r.closed ? 'closed' : 'open' });
          telemetry?.lakeCompactionRows.inc({ log_type: r.logType }, r.rowsBefore - r.rowsAfter);
          logger.debug({ ...r }, 'partition compacted');
        },
      });
      if (stats.partitions > 0) {
        logger.info({ ...stats, ms: Math.round(performance.now() - started) }, 'lake compacted');
      }
      lastError = null;
    } catch (err) {
      lastError = (err as Error).message;
      telemetry?.sinkErrors.inc({ sink: 'lake_compactor' });
      logger.warn({ err }, 'lake compaction failed; retrying at the next run');
    }
    const inv = await lakeInventory(options.lakeDir, Date.now(), closeAfterMs);
    lagSeconds = inv.lagSeconds;
    if (lagSeconds * 1000 > maxLagMs) {
      logger.warn(
        { lag_seconds: lagSeconds, pending_hours: inv.pendingClosed },
        'lake compaction is behind: closed hours wait to be compacted',
      );
    }
    if (telemetry) {
      telemetry.lakeFiles.set(inv.files);
      telemetry.lakeBytes.set(inv.bytes);
      telemetry.lakePartitionFilesMax.set({ hour: 'closed' }, inv.maxFilesClosed);
      telemetry.lakePartitionFilesMax.set({ hour: 'open' }, inv.maxFilesOpen);
      telemetry.lakeCompactionLag.set(inv.lagSeconds);
    }
  }

  function runNow(): Promise<void> {
    running ??= once().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      void runNow().then(() => {
        if (!abort.signal.aborted) schedule();
      });
    }, intervalMs);
    timer.unref();
  }

  return {
    async start() {
      abort = new AbortController();
      schedule();
    },
    runOnce: () => runNow(),
    async healthcheck() {
      if (lagSeconds * 1000 > maxLagMs) {
        return {
          ok: false,
          detail: `lake compaction behind: a closed hour has waited ${lagSeconds} s${lastError ? ` (last error: ${lastError})` : ''}`,
        };
      }
      return { ok: true, detail: lastError ? `last run failed: ${lastError}` : `lag ${lagSeconds} s` };
    },
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
