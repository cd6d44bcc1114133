import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The one telemetry module: every socstream metric is created here, `socstream_` prefixed, with
 * `_total` / `_seconds` / `_bytes` suffixes. Components call the accessors below; nothing else
 * touches prom-client directly, so the metric list in docs and deploy/ rules stays checkable.
 */
export interface Telemetry {
  readonly registry: Registry;
  eventsIn: Counter<'source' | 'log_type'>;
  eventsOut: Counter<'sink' | 'log_type'>;
  rejects: Counter<'source' | 'reason'>;
  dlqWrites: Counter<'output'>;
  alerts: Counter<'rule' | 'level'>;
  ruleMatches: Counter<'rule'>;
  correlationGroups: Gauge<'rule'>;
  correlationEvictions: Counter<'rule'>;
  correlationLate: Counter<'rule'>;
  consumerLag: Gauge<'topic' | 'partition' | 'group'>;
  detectionLatency: Histogram<never>;
  flushes: Counter<'sink' | 'reason'>;
  flushDuration: Histogram<'sink'>;
  flushBytes: Counter<'sink'>;
  bufferFill: Gauge<'stage'>;
  busPublished: Counter<'topic'>;
  busConsumed: Counter<'topic'>;
  sinkErrors: Counter<'sink'>;
  httpRequests: Counter<'route' | 'status'>;
  up: Gauge<'role'>;
  iocMatches: Counter<'list'>;
  iocReloads: Counter<'list'>;
  sourceRecords: Counter<'source'>;
  sourceDropped: Counter<'source' | 'reason'>;
  sinkBlocked: Gauge<'sink'>;
  sinkBlockedSeconds: Counter<'sink'>;
  lakeFiles: Gauge<never>;
  lakeBytes: Gauge<never>;
  lakePartitionFilesMax: Gauge<'hour'>;
  lakeCompactionLag: Gauge<never>;
  lakeCompactions: Counter<'log_type' | 'hour'>;
  lakeCompactionRows: Counter<'log_type'>;
  lakeCompactionRss: Gauge<never>;
  queryRejected: Counter<'pool' | 'reason'>;
}

export function createTelemetry(options: { defaultMetrics?: boolean } = {}): Telemetry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'socstream_' });
  const registers = [registry];
  return {
    registry,
    eventsIn: new Counter({
      name: 'socstream_events_in_total',
      help: 'Events accepted from sources, by source family and log type',
      labelNames: ['source', 'log_type'],
      registers,
    }),
    eventsOut: new Counter({
      name: 'socstream_events_out_total',
      help: 'Events durably written by sinks',
      labelNames: ['sink', 'log_type'],
      registers,
    }),
    rejects: new Counter({
      name: 'socstream_rejects_total',
      help: 'Input records rejected, by reason',
      labelNames: ['source', 'reason'],
      registers,
    }),
    dlqWrites: new Counter({
      name: 'socstream_dlq_writes_total',
      help: 'Records written to the dead-letter output',
      labelNames: ['output'],
      registers,
    }),
    alerts: new Counter({
      name: 'socstream_alerts_total',
      help: 'Alerts raised (new or updated), by rule and level',
      labelNames: ['rule', 'level'],
      registers,
    }),
    ruleMatches: new Counter({
      name: 'socstream_rule_matches_total',
      help: 'Single-event Sigma rule matches',
      labelNames: ['rule'],
      registers,
    }),
    correlationGroups: new Gauge({
      name: 'socstream_correlation_groups',
      help: 'Open correlation groups held in memory, by rule',
      labelNames: ['rule'],
      registers,
    }),
    correlationEvictions: new Counter({
      name: 'socstream_correlation_evictions_total',
      help: 'Correlation groups evicted because a rule hit its group limit',
      labelNames: ['rule'],
      registers,
    }),
    correlationLate: new Counter({
      name: 'socstream_correlation_late_events_total',
      help: 'Matches dropped by a correlation because they were older than the watermark (event time minus allowed lateness)',
      labelNames: ['rule'],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'socstream_consumer_lag',
      help: 'Records between the committed offset and the end of the partition',
      labelNames: ['topic', 'partition', 'group'],
      registers,
    }),
    detectionLatency: new Histogram({
      name: 'socstream_detection_latency_seconds',
      help: 'From ingest of the last contributing event to the alert',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    flushes: new Counter({
      name: 'socstream_flushes_total',
      help: 'Sink flushes by the condition that triggered them',
      labelNames: ['sink', 'reason'],
      registers,
    }),
    flushDuration: new Histogram({
      name: 'socstream_flush_duration_seconds',
      help: 'Time to write and publish one flush',
      labelNames: ['sink'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    flushBytes: new Counter({
      name: 'socstream_flush_bytes_total',
      help: 'Bytes written by flushes',
      labelNames: ['sink'],
      registers,
    }),
    bufferFill: new Gauge({
      name: 'socstream_buffer_fill_ratio',
      help: 'Fill of bounded buffers between stages (0..1)',
      labelNames: ['stage'],
      registers,
    }),
    busPublished: new Counter({
      name: 'socstream_bus_published_total',
      help: 'Records published to the bus',
      labelNames: ['topic'],
      registers,
    }),
    busConsumed: new Counter({
      name: 'socstream_bus_consumed_total',
      help: 'Records consumed from the bus',
      labelNames: ['topic'],
      registers,
    }),
    sinkErrors: new Counter({
      name: 'socstream_sink_errors_total',
      help: 'Sink write failures (retried)',
      labelNames: ['sink'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'socstream_http_requests_total',
      help: 'HTTP API requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    }),
    up: new Gauge({
      name: 'socstream_up',
      help: '1 while a role is running',
      labelNames: ['role'],
      registers,
    }),
    sourceRecords: new Counter({
      name: 'socstream_source_records_total',
      help: 'Records framed by a source (<type>:<name>), before parsing',
      labelNames: ['source'],
      registers,
    }),
    sourceDropped: new Counter({
      name: 'socstream_source_dropped_total',
      help: 'Input a source could not take: syslog UDP under backpressure, refused HTTP bodies',
      labelNames: ['source', 'reason'],
      registers,
    }),
    iocMatches: new Counter({
      name: 'socstream_ioc_matches_total',
      help: 'Events that matched an IOC list, by list',
      labelNames: ['list'],
      registers,
    }),
    iocReloads: new Counter({
      name: 'socstream_ioc_reloads_total',
      help: 'IOC list reloads after the file changed, by list',
      labelNames: ['list'],
      registers,
    }),
    sinkBlocked: new Gauge({
      name: 'socstream_sink_blocked',
      help: '1 while a sink waits for its storage (lake disk full): its input is not consumed',
      labelNames: ['sink'],
      registers,
    }),
    sinkBlockedSeconds: new Counter({
      name: 'socstream_sink_blocked_seconds_total',
      help: 'Time a sink spent blocked on its storage (counted when it unblocks)',
      labelNames: ['sink'],
      registers,
    }),
    lakeFiles: new Gauge({
      name: 'socstream_lake_files',
      help: 'Parquet files in the lake (at the last compaction run)',
      registers,
    }),
    lakeBytes: new Gauge({
      name: 'socstream_lake_bytes',
      help: 'Bytes of Parquet in the lake (at the last compaction run)',
      registers,
    }),
    lakePartitionFilesMax: new Gauge({
      name: 'socstream_lake_partition_files_max',
      help: 'Most files in one hour partition, closed or open hours',
      labelNames: ['hour'],
      registers,
    }),
    lakeCompactionLag: new Gauge({
      name: 'socstream_lake_compaction_lag_seconds',
      help: 'How long the oldest closed, not yet compacted hour has waited (0: none)',
      registers,
    }),
    lakeCompactionRss: new Gauge({
      name: 'socstream_lake_compaction_peak_rss_bytes',
      help: 'Peak resident memory of the last compaction run (its own child process)',
      registers,
    }),
    lakeCompactions: new Counter({
      name: 'socstream_lake_compactions_total',
      help: 'Hour partitions compacted, by log type and closed/open hour',
      labelNames: ['log_type', 'hour'],
      registers,
    }),
    lakeCompactionRows: new Counter({
      name: 'socstream_lake_duplicates_removed_total',
      help: 'Duplicate event rows (same id) removed by compaction',
      labelNames: ['log_type'],
      registers,
    }),
    queryRejected: new Counter({
      name: 'socstream_query_rejected_total',
      help: 'Lake queries refused or stopped: busy (429), timeout, too_large',
      labelNames: ['pool', 'reason'],
      registers,
    }),
  };
}
