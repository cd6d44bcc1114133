import type { Health } from '../core/component.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { COMPACT_DEFAULTS, type CompactOptions, lakeInventory } from './compact.ts';
import { compactInChild } from './compact-process.ts';
import { rollupWork } from './rollup-build.ts';

/**
 * The background compactor: every `intervalMs` it compacts the lake (compact.ts: closed hours into
 * a few deduplicated files with their rollups, the open hour when it has too many files), then
 * takes an inventory for the metrics and the health check. It runs in the process that writes the
 * lake, beside the writer, without blocking it: each run is a child process of its own
 * (compact-process.ts: DuckDB with one thread and its own memory limit, memory returned to the
 * system when the run ends), the writer's files are never locked, and only a run's own inputs
 * are deleted.
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

  /**
   * Work for a run: a closed hour not compacted, a crowded open hour, or a rollup missing (a
   * crash's left-over temp files are swept by the next run; an hour closes every hour).
   */
  async function workToDo(): Promise<boolean> {
    const inv = await lakeInventory(options.lakeDir, Date.now(), closeAfterMs);
    const openMax = options.openHourMaxFiles ?? COMPACT_DEFAULTS.openHourMaxFiles;
    if (inv.pendingClosed > 0 || (openMax > 0 && inv.maxFilesOpen >= openMax)) return true;
    // Rollups to make: an hour compacted by an older version, a closed day without its day rollup.
    const rollups = await rollupWork(options.lakeDir, Date.now(), closeAfterMs);
    return rollups.hours.length > 0 || rollups.spans.length > 0;
  }

  async function once(): Promise<void> {
    const started = performance.now();
    try {
      // A run is a process start (~0.3 s of CPU): only when there is something to do.
      if (await workToDo()) await compactRun(started);
      lastError = null;
    } catch (err) {
      lastError = (err as Error).message;
      telemetry?.sinkErrors.inc({ sink: 'lake_compactor' });
      logger.warn({ err }, 'lake compaction failed; retrying at the next run');
    }
    await takeInventory();
  }

  async function compactRun(started: number): Promise<void> {
    const stats = await compactInChild({
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
    telemetry?.lakeCompactionRss.set(stats.maxRssBytes);
    if (stats.partitions > 0 || stats.hourRollups > 0 || stats.dayRollups > 0 || stats.spanHourRollups > 0) {
      logger.info({ ...stats, ms: Math.round(performance.now() - started) }, 'lake compacted');
    }
  }

  async function takeInventory(): Promise<void> {
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
      return lagHealth(lagSeconds, maxLagMs, lastError);
    },
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await running;
    },
  };
}

/** The compaction health from the lag: not ok once a closed hour has waited longer than maxLagMs. */
export function lagHealth(lagSeconds: number, maxLagMs: number, lastError: string | null = null): Health {
  if (lagSeconds * 1000 > maxLagMs) {
    return {
      ok: false,
      detail: `lake compaction behind: a closed hour has waited ${lagSeconds} s (limit ${Math.round(maxLagMs / 1000)} s)${lastError ? `; last error: ${lastError}` : ''}`,
    };
  }
  return {
    ok: true,
    detail: lastError ? `lag ${lagSeconds} s; last run failed: ${lastError}` : `lag ${lagSeconds} s`,
  };
}

/**
 * The same health for a process that reads the lake without compacting it (`socstream serve`):
 * from the lake's inventory, taken at most every `cacheMs` (a week's lake is ~2,000 partitions).
 */
export function lakeLagCheck(
  lakeDir: string,
  options: { maxLagMs?: number; closeAfterMs?: number; cacheMs?: number } = {},
): () => Promise<Health> {
  const maxLagMs = options.maxLagMs ?? COMPACTOR_DEFAULTS.maxLagMs;
  const cacheMs = options.cacheMs ?? 30_000;
  let cached: { at: number; health: Health } | null = null;
  return async () => {
    if (cached && Date.now() - cached.at < cacheMs) return cached.health;
    const inv = await lakeInventory(lakeDir, Date.now(), options.closeAfterMs);
    cached = { at: Date.now(), health: lagHealth(inv.lagSeconds, maxLagMs) };
    return cached.health;
  };
}
