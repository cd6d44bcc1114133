import { z } from 'zod';
import { d } from '../core/describe.ts';

/**
 * The sections of socstream.yaml that belong to no component: the source entries' frame, the
 * parsers' shared settings and the HTTP API. The components' sections are beside their components,
 * the bus's and the topics' in src/bus/bus-schema.ts; src/config/schema.ts assembles the whole file.
 */
export const sourceEntrySchema = z
  .object({
    type: d(
      z.string(),
      'file, stdin, http, syslog, kafka or generator; its other keys are in docs/sources.md',
    ),
  })
  .passthrough();

export const parsersSchema = z
  .object({
    max_line_bytes: d(
      z.number().int().positive().default(1_048_576),
      'Longer lines are rejected (line_too_long) without being buffered whole',
    ),
    settings: d(
      z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
      'Per-format parser settings, e.g. nginx: { log_format: ... }, json: { time_field: ts }; see docs/parsers.md',
    ),
  })
  .strict();

export const tokenSchema = z
  .object({
    name: d(z.string(), 'Who holds the token (shown in the audit trail)'),
    role: d(
      z.enum(['viewer', 'analyst', 'admin']),
      'viewer reads; analyst also triages alerts; admin also runs SQL',
    ),
    sha256: d(
      z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      'SHA-256 hex of the token (preferred)',
    ),
    token: d(z.string().min(16).optional(), 'The token in clear (hashed at load); prefer sha256 or env'),
  })
  .strict();

export const serveSchema = z
  .object({
    host: d(z.string().default('127.0.0.1'), 'Listen address'),
    port: d(z.number().int().min(0).max(65535).default(8080), 'Listen port'),
    tokens: d(z.array(tokenSchema).default([]), 'API tokens; SOCSTREAM_TOKEN_<NAME>=role:token adds more'),
    cors_origins: d(z.array(z.string()).default([]), 'Allowed CORS origins; empty disables CORS'),
    rate_limit_per_minute: d(
      z.number().int().positive().default(600),
      'API requests per minute per token (per client IP without one)',
    ),
    body_limit_bytes: d(z.number().int().positive().default(1_048_576), 'Largest request body accepted'),
    query_timeout_ms: d(
      z.number().int().positive().default(10_000),
      'Lake queries are cancelled after this long',
    ),
    query_max_rows: d(z.number().int().positive().default(10_000), 'Most rows an SQL query returns'),
    query_max_response_bytes: d(
      z.number().int().positive().default(10_485_760),
      'Most bytes of rows a query answer carries; the rest is cut (truncated: true)',
    ),
    query_memory_limit_mb: d(
      z.number().int().min(64).default(512),
      "DuckDB memory_limit of each of the API's two query engines (viewers', admins' SQL)",
    ),
    query_threads: d(
      z.number().int().min(0).default(0),
      "DuckDB threads of the viewers' engine (admins' SQL: half); 0 = the machine's cores, at most 4",
    ),
    query_concurrency: d(
      z.number().int().positive().default(2),
      "Viewers' lake queries (events, stats) running at once; more wait in a queue",
    ),
    query_queue: d(z.number().int().min(0).default(32), "Viewers' queries waiting; beyond, 429"),
    sql_concurrency: d(z.number().int().positive().default(1), "Admins' SQL queries running at once"),
    sql_queue: d(z.number().int().min(0).default(4), "Admins' SQL queries waiting; beyond, 429"),
    sse_max_streams: d(z.number().int().positive().default(100), 'Open /api/stream connections, in total'),
    sse_max_streams_per_token: d(
      z.number().int().positive().default(5),
      'Open /api/stream connections per token',
    ),
    sse_max_buffered_bytes: d(
      z.number().int().positive().default(1_048_576),
      'A stream whose unsent data exceeds this (a slow reader) is closed',
    ),
  })
  .strict();

/** `process:`: how the process role uses the machine's cores (src/roles/process-worker.ts). */
export const processSchema = z
  .object({
    workers: d(
      z.number().int().min(0).max(1).default(0),
      'Worker threads for the process role: 1 = parse, normalize, enrich, rule matching and the lake (columns, DuckDB appends, flushes) run on a second thread while the main one consumes, publishes and commits (for a machine with a core to spare; see docs/benchmarks.md); 0 = everything on the main thread',
    ),
    worker_heap_mb: d(
      z.number().int().min(64).default(512),
      "Bound of the worker thread's JS heap (V8 old generation), MB; past it the worker dies and the process role stops (nothing uncommitted is lost: Kafka delivers it again)",
    ),
  })
  .strict();
