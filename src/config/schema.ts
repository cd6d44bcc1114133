import { z } from 'zod';
import { logsourceEntrySchema } from './logsource-schema.ts';

/**
 * socstream.yaml. Every object is strict: an unknown key is an error naming the key and the file.
 * docs/config.md is generated from this schema (`node scripts/gen-config-doc.ts`), so every key
 * carries a description.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

const codec = z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']);

export const kafkaSchema = z
  .object({
    brokers: d(z.array(z.string()).min(1).default(['127.0.0.1:9092']), 'Bootstrap servers, host:port'),
    client_id: d(z.string().default('socstream'), 'Kafka client id'),
    compression: d(
      codec.default('lz4'),
      'Producer compression codec: internal topics, and output topics topics.compression leaves unset',
    ),
    connect_timeout_ms: d(z.number().int().positive().default(10_000), 'Give up connecting after this long'),
    retries: d(
      z.number().int().min(0).default(60),
      'Retries of every Kafka request (produce, fetch, commit, metadata), backoff 100 ms doubling to 5 s: 60 ride out about 4 minutes of a broker or cluster outage (a leader election takes ~10 s)',
    ),
    replication_factor: d(
      z.number().int().positive().optional(),
      "Replicas of each topic socstream creates; omitted: the cluster's default.replication.factor (3 on a cluster)",
    ),
    min_insync_replicas: d(
      z.number().int().positive().optional(),
      "min.insync.replicas of each topic socstream creates (2 with 3 replicas); omitted: the cluster's default",
    ),
    ssl: d(
      z
        .object({
          ca_file: d(z.string().optional(), "CA bundle that signs the brokers' certificates (PEM)"),
          cert_file: d(z.string().optional(), 'Client certificate for mutual TLS (PEM)'),
          key_file: d(z.string().optional(), 'Private key of cert_file (PEM)'),
          reject_unauthorized: d(
            z.boolean().default(true),
            'Refuse brokers whose certificate does not verify',
          ),
        })
        .strict()
        .optional(),
      'TLS to the brokers; files are PEM',
    ),
    sasl: d(
      z
        .object({
          mechanism: d(
            z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
            'SASL mechanism the brokers accept',
          ),
          username: d(z.string().min(1), 'SASL user name'),
          password: d(z.string().min(1), 'SASL password (never logged)'),
        })
        .strict()
        .optional(),
      'SASL authentication; the password is redacted from logs',
    ),
  })
  .strict();

export const busSchema = z
  .object({
    type: d(z.enum(['memory', 'kafka']).default('memory'), 'memory: one process; kafka: distributed roles'),
    group_prefix: d(
      z.string().min(1).default('socstream'),
      'Consumer groups are <group_prefix>-process, -correlate, -store: two pipelines on one cluster need two prefixes',
    ),
    kafka: kafkaSchema.default(kafkaSchema.parse({})),
    memory: z
      .object({
        queue_capacity: d(
          z.number().int().positive().default(10_000),
          'Records held per partition before publishers wait (backpressure)',
        ),
        assignment: d(
          z.enum(['range', 'round_robin']).default('range'),
          "How a group's partitions are shared among its members (Kafka's range / round-robin assignors)",
        ),
      })
      .strict()
      .default({ queue_capacity: 10_000, assignment: 'range' }),
  })
  .strict();

export const topicsSchema = z
  .object({
    raw_prefix: d(z.string().default('raw.'), 'Raw input topics are <raw_prefix><source>'),
    network: d(
      z.string().default('events.network'),
      'Normalized network events (conn, dns, flows, IDS alerts)',
    ),
    auth: d(z.string().default('events.auth'), 'Normalized authentication events'),
    web: d(z.string().default('events.web'), 'Normalized web/HTTP events'),
    other: d(z.string().default('events.other'), 'Normalized events of any other class'),
    matches: d(
      z.string().default('matches'),
      'Internal: rule matches keyed by rule + group key, for correlation',
    ),
    alerts: d(z.string().default('alerts'), 'Alerts'),
    dlq: d(z.string().default('dlq'), 'Rejected records with reason and position'),
    partitions: d(z.number().int().positive().default(6), 'Partitions for topics socstream creates'),
    class_topics: d(
      z.boolean().default(false),
      'Also publish every event that no route claims to its class topic (network, auth, web, other), ' +
        'for consumers outside socstream. Either way the process role writes the lake in the same pass',
    ),
    lake_inputs: d(
      z.array(z.string()).default([]),
      'Topics of envelopes (JSON) that other producers fill: the store role writes them into the lake',
    ),
    compression: d(
      z
        .object({
          alerts: d(codec.default('gzip'), 'Codec of the alerts topic (gzip: every Kafka client reads it)'),
          dlq: d(codec.default('gzip'), 'Codec of the dlq topic'),
          network: d(codec.optional(), 'Codec of topics.network (unset: bus.kafka.compression)'),
          auth: d(codec.optional(), 'Codec of topics.auth (unset: bus.kafka.compression)'),
          web: d(codec.optional(), 'Codec of topics.web (unset: bus.kafka.compression)'),
          other: d(codec.optional(), 'Codec of topics.other (unset: bus.kafka.compression)'),
        })
        .strict()
        .default({ alerts: 'gzip', dlq: 'gzip' }),
      'Codec per output topic (Kafka bus); unset ones and the internal raw and matches topics use bus.kafka.compression. gzip, the default for alerts and dlq, is the codec every Kafka client reads without add-ons (docs/kafka.md)',
    ),
  })
  .strict();

/** A source entry; its own keys are validated against the source type's schema (src/sources). */
export const sourceEntrySchema = z
  .object({
    type: d(
      z.string(),
      'file, stdin, http, syslog, kafka or generator; its other keys are in docs/sources.md',
    ),
  })
  .passthrough();

export const enrichSchema = z
  .object({
    home_networks: d(
      z.array(z.string()).default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
      'CIDRs of your networks: they decide direction (inbound/outbound/internal/external)',
    ),
    timezone: d(z.string().default('UTC'), 'IANA time zone for the time parts (event_hour, ...)'),
    ioc: d(
      z
        .array(
          z
            .object({
              name: d(z.string(), 'List name, shown in enriched.ioc matches'),
              path: d(z.string(), 'Text or CSV file of indicators'),
              kind: d(
                z.enum(['auto', 'ip', 'cidr', 'domain', 'url', 'hash']).default('auto'),
                'Indicator kind; auto decides per line',
              ),
              severity: d(
                z.enum(['info', 'low', 'medium', 'high', 'critical']).default('high'),
                'Severity of a match (a CSV severity column overrides it)',
              ),
            })
            .strict(),
        )
        .default([]),
      'IOC lists (text, one per line, or CSV with an indicator column); reloaded when the file changes',
    ),
    assets: d(z.string().optional(), 'Asset inventory CSV: ip_or_cidr,name,owner,criticality,tags'),
    geoip: z
      .object({
        city_db: d(z.string().optional(), 'MaxMind GeoLite2/GeoIP2 City .mmdb'),
        asn_db: d(z.string().optional(), 'MaxMind GeoLite2 ASN .mmdb'),
      })
      .strict()
      .default({}),
  })
  .strict();

export const routeSchema = z
  .object({
    match: z
      .object({
        source: d(z.string().optional(), 'Envelope source to match'),
        log_type: d(z.string().optional(), 'Envelope log_type to match'),
        event_class: d(
          z.string().optional(),
          'normalized.event_class to match; all given keys must be equal',
        ),
      })
      .strict(),
    topic: d(z.string(), 'Topic for the matching events'),
    key: d(z.array(z.string()).default(['src_ip']), 'Normalized fields tried in order for the record key'),
  })
  .strict();

export const detectSchema = z
  .object({
    rules: d(z.array(z.string()).default(['rules']), 'Folders or files of Sigma rules'),
    placeholders: d(
      z.record(z.string(), z.array(z.string())).default({}),
      'Values for the Sigma expand modifier (%name%)',
    ),
    allowed_lateness_ms: d(
      z.number().int().min(0).default(60_000),
      'Correlation windows accept events this late behind the watermark',
    ),
    idle_partition_ms: d(
      z.number().int().positive().default(30_000),
      'An input partition silent this long (wall time) stops holding back the event-time watermark',
    ),
    max_groups_per_rule: d(
      z.number().int().positive().default(100_000),
      'Correlation state bound; the oldest groups are evicted (counted in metrics)',
    ),
    suppression_seconds: d(
      z.number().int().min(0).default(300),
      'Same rule + group within this period updates the alert instead of raising a new one',
    ),
    regex_max_length: d(
      z.number().int().positive().default(4096),
      'Longest value a regex is run on (guards against catastrophic backtracking)',
    ),
    logsources: d(
      z.array(logsourceEntrySchema).default([]),
      'Sigma logsources added to the bundled table: {logsource: {product, category, service}, events: [{source, log_type, fields: {SigmaName: raw.path}}]} (docs/rules.md)',
    ),
  })
  .strict();

export const alertsSchema = z
  .object({
    console: d(z.boolean().default(false), 'Print [ALERT] lines in the threat-analyzer style'),
    console_updates: d(
      z.boolean().default(false),
      'Also print [UPDATE] lines when an alert folds more events (default: new alerts only)',
    ),
    update_interval_seconds: d(
      z.number().min(0).default(30),
      'Updates of one alert go to the outputs at most once per this many seconds (the latest state; the last one always goes out); 0 = every update',
    ),
    kafka: d(z.boolean().default(true), 'Publish alerts to the alerts topic'),
    webhook: z
      .object({
        url: d(z.string().url(), 'Endpoint that receives each alert as a JSON POST'),
        headers: d(
          z.record(z.string(), z.string()).default({}),
          'Extra request headers (e.g. authorization)',
        ),
        max_retries: d(
          z.number().int().min(0).default(5),
          'Retries on network errors, timeouts, 408, 429 and 5xx, with backoff; then the alert is dead-lettered',
        ),
        queue_capacity: d(
          z.number().int().positive().default(1000),
          'Alerts queued for delivery before writers wait',
        ),
        timeout_ms: d(z.number().int().positive().default(5000), 'Per-request timeout'),
      })
      .strict()
      .optional(),
  })
  .strict();

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

export const alertStoreSchema = z
  .object({
    type: d(z.enum(['sqlite', 'postgres']).default('sqlite'), 'sqlite is embedded; postgres for teams'),
    sqlite_path: d(
      z.string().default('.data/socstream.db'),
      'SQLite file (WAL mode); a bare file name is placed in data_dir',
    ),
    postgres_url: d(z.string().optional(), 'postgres://user@host:5432/db; migrations are applied at start'),
  })
  .strict();

export const dlqSchema = z
  .object({
    type: d(z.enum(['file', 'kafka']).default('file'), 'Where rejected records go'),
    path: d(z.string().default('.data/dlq.ndjson'), 'DLQ file (type file)'),
    max_bytes: d(z.number().int().positive().default(65_536), 'Raw bytes kept per rejected record'),
  })
  .strict();

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

export const configSchema = z
  .object({
    data_dir: d(z.string().default('.data'), 'State directory (checkpoints, lake, sqlite)'),
    log_level: d(
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      'Structured log (pino) level',
    ),
    bus: busSchema.default(busSchema.parse({})),
    topics: topicsSchema.default(topicsSchema.parse({})),
    sources: d(z.array(sourceEntrySchema).default([]), 'Inputs; see docs/sources.md for each type'),
    mappings: d(
      z.array(z.string()).default([]),
      'Extra mapping files or folders; they add or override the shipped per-log-type mappings',
    ),
    enrich: enrichSchema.default(enrichSchema.parse({})),
    routes: d(z.array(routeSchema).default([]), 'Routing rules, first match wins; defaults route by class'),
    detect: detectSchema.default(detectSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    lake: lakeSchema.default(lakeSchema.parse({})),
    alert_store: alertStoreSchema.default(alertStoreSchema.parse({})),
    dlq: dlqSchema.default(dlqSchema.parse({})),
    parsers: parsersSchema.default(parsersSchema.parse({})),
    serve: serveSchema.default(serveSchema.parse({})),
    metrics_port: d(z.number().int().min(0).max(65535).optional(), 'Metrics port for headless roles'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
