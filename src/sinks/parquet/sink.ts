import { access, constants } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ComponentContext, Sink, SinkDefinition } from '../../core/component.ts';
import { type LakeConfig, lakeSchema } from './lake-schema.ts';
import { LakeWriter } from './writer.ts';

export type LakeSinkConfig = LakeConfig;

/** The lake sink's extras over Sink: disk-full backpressure. */
export interface LakeSink extends Sink {
  /** True while the lake waits for its disk (full): hand on nothing new. */
  blocked(): boolean;
  /** Resolves at once, or when the lake is writable again (or stopped). */
  whenWritable(): Promise<void>;
}

const BYTES_PER_MB = 1024 * 1024;

/** The lake directory: absolute as given, else relative to the working directory. */
export function lakeDir(config: LakeSinkConfig): string {
  return isAbsolute(config.dir) ? config.dir : resolve(config.dir);
}

/**
 * `lake`: envelopes → hive-partitioned Parquet per log type (see writer.ts for the flush and ack
 * protocol). `write()` resolves only when the batch's rows are in renamed files, so a source that
 * acks on resolution commits its offsets after the rename.
 */
export const lakeSinkDefinition: SinkDefinition<LakeSinkConfig> = {
  type: 'lake',
  kind: 'sink',
  section: 'lake',
  summary: 'Parquet lake: per log type, hive-partitioned by event hour (UTC), zstd, atomic renames',
  config: lakeSchema,
  create: createLakeSink,
};

export function createLakeSink(config: LakeSinkConfig, ctx: ComponentContext): LakeSink {
  const dir = lakeDir(config);
  const writer = new LakeWriter({
    dir,
    flushBufferBytes: config.flush_buffer_mb * BYTES_PER_MB,
    flushEventCount: config.flush_event_count,
    flushIntervalMs: config.flush_interval_seconds * 1000,
    maxPendingFlushes: config.max_pending_flushes,
    typedRawColumns: config.typed_raw_columns,
    blockedRetryMaxMs: config.blocked_retry_max_seconds * 1000,
    duckdbMemoryLimitMb: config.duckdb_memory_limit_mb > 0 ? config.duckdb_memory_limit_mb : undefined,
    duckdbThreads: config.duckdb_threads,
    duckdbAllocatorBackgroundThreads: config.duckdb_allocator_background_threads,
    logger: ctx.logger.child({ component: 'lake' }),
    telemetry: ctx.telemetry,
  });
  return {
    start: () => writer.start(),
    write: (batch) => writer.write(batch),
    blocked: () => writer.blocked(),
    whenWritable: () => writer.whenWritable(),
    flush: () => writer.flush(),
    stop: () => writer.stop(),
    async healthcheck() {
      const since = writer.blockedSince();
      if (since !== null) {
        const seconds = Math.round((Date.now() - since) / 1000);
        return { ok: false, detail: `lake dir ${dir} full: blocked for ${seconds} s, not consuming` };
      }
      try {
        await access(dir, constants.W_OK);
        const mb = (writer.bufferedBytes() / BYTES_PER_MB).toFixed(1);
        return { ok: true, detail: `${writer.bufferedEvents()} events (~${mb} MB) buffered` };
      } catch (err) {
        return { ok: false, detail: `lake dir ${dir} not writable: ${(err as Error).message}` };
      }
    },
  };
}
