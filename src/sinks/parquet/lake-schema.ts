import { z } from 'zod';
import { d } from '../../core/describe.ts';

/** `lake:` in socstream.yaml, the lake sink's config (sink.ts). */
export const lakeSchema = z
  .object({
    dir: d(z.string().default('.data/lake'), 'Root of the Parquet lake'),
    flush_buffer_mb: d(
      z.number().min(0).default(64),
      'Flush a log type when its buffer reaches this; 0 disables',
    ),
    flush_event_count: d(
      z.number().int().min(0).default(100_000),
      'Flush after this many events; 0 disables',
    ),
    flush_interval_seconds: d(z.number().min(0).default(30), 'Flush at least this often; 0 disables'),
    max_pending_flushes: d(z.number().int().positive().default(2), 'Flushes in flight before writers wait'),
    typed_raw_columns: d(z.boolean().default(false), 'Also write raw fields as typed columns (Zeek #types)'),
    blocked_retry_max_seconds: d(
      z.number().positive().default(30),
      'Disk full: longest wait between attempts; the store stops consuming until a flush goes through',
    ),
    duckdb_memory_limit_mb: d(
      z.number().int().min(0).default(256),
      "DuckDB memory limit for the lake's buffers and Parquet COPY; past 40 % of it the largest buffer is flushed; 0 keeps DuckDB's default (80 % of RAM) and no bound",
    ),
    duckdb_threads: d(
      z.number().int().positive().default(1),
      "DuckDB worker threads for the lake's Parquet encoding; 1 leaves the other cores to the pipeline",
    ),
    duckdb_allocator_background_threads: d(
      z.boolean().default(true),
      "DuckDB's allocator returns the pages a flush freed to the system on a timer (a background thread); false: only when DuckDB allocates again",
    ),
    max_uncommitted_events: d(
      z.number().int().positive().default(200_000),
      'Store role: consumed events not yet committed before it forces a flush and waits (memory bound)',
    ),
    compact_interval_seconds: d(
      z.number().min(0).default(60),
      'Background compaction: pause between runs (closed hours → one deduplicated file); 0 disables',
    ),
    compact_open_hour_max_files: d(
      z.number().int().min(0).default(12),
      'Background compaction merges the open hour once it has this many files; 0 never',
    ),
    compact_memory_limit_mb: d(
      z.number().int().min(16).default(80),
      "DuckDB's memory limit for compaction (its own process, one thread; it spills to <lake>/.compact-spill)",
    ),
  })
  .strict();

export type LakeConfig = z.infer<typeof lakeSchema>;
