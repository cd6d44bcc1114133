import type { Envelope } from '../../core/envelope.ts';

/**
 * The lake's column layout. Every file has: id, source, log_type, one typed column per canonical
 * normalized and enriched field, `extra` (JSON text of any normalized/enriched field outside the
 * dictionary, so nothing is lost) and `raw` (the raw layer as JSON text). Partition columns
 * (year/month/day/hour) live only in the directory names (hive style); readers add them.
 */
export const COLUMN_KINDS = [
  'string',
  'integer',
  'number',
  'boolean',
  'timestamp',
  'strings',
  'json',
] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface FieldSpec {
  name: string;
  kind: ColumnKind;
}

/** DuckDB SQL type per column kind. `timestamp` is epoch ms in the envelope, TIMESTAMP_MS on disk. */
export const DUCKDB_TYPE: Record<ColumnKind, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP_MS',
  strings: 'VARCHAR[]',
  json: 'VARCHAR',
};

/**
 * Canonical normalized fields (docs/schema.md). Kept here until src/normalize/fields.ts (the
 * dictionary) lands; the kinds follow the dictionary's types.
 */
export const NORMALIZED_FIELDS: readonly FieldSpec[] = [
  { name: 'event_time', kind: 'timestamp' },
  { name: 'ingest_time', kind: 'timestamp' },
  { name: 'event_class', kind: 'string' },
  { name: 'event_type', kind: 'string' },
  { name: 'flow_id', kind: 'string' },
  { name: 'community_id', kind: 'string' },
  { name: 'src_ip', kind: 'string' },
  { name: 'src_port', kind: 'integer' },
  { name: 'dst_ip', kind: 'string' },
  { name: 'dst_port', kind: 'integer' },
  { name: 'protocol', kind: 'string' },
  { name: 'app_protocol', kind: 'string' },
  { name: 'bytes_in', kind: 'integer' },
  { name: 'bytes_out', kind: 'integer' },
  { name: 'packets_in', kind: 'integer' },
  { name: 'packets_out', kind: 'integer' },
  { name: 'duration_ms', kind: 'number' },
  { name: 'conn_state', kind: 'string' },
  { name: 'user', kind: 'string' },
  { name: 'outcome', kind: 'string' },
  { name: 'action', kind: 'string' },
  { name: 'host', kind: 'string' },
  { name: 'severity', kind: 'string' },
  { name: 'severity_score', kind: 'integer' },
  { name: 'signature', kind: 'string' },
  { name: 'signature_id', kind: 'integer' },
  { name: 'category', kind: 'string' },
  { name: 'dns_query', kind: 'string' },
  { name: 'dns_qtype', kind: 'string' },
  { name: 'dns_rcode', kind: 'string' },
  { name: 'dns_answers', kind: 'strings' },
  { name: 'http_method', kind: 'string' },
  { name: 'http_status', kind: 'integer' },
  { name: 'url', kind: 'string' },
  { name: 'http_host', kind: 'string' },
  { name: 'user_agent', kind: 'string' },
  { name: 'http_referrer', kind: 'string' },
  { name: 'tls_version', kind: 'string' },
  { name: 'tls_sni', kind: 'string' },
  { name: 'tls_ja3', kind: 'string' },
  { name: 'file_md5', kind: 'string' },
  { name: 'file_sha1', kind: 'string' },
  { name: 'file_sha256', kind: 'string' },
  { name: 'message', kind: 'string' },
];

/** Enriched fields (docs/enrichment.md). */
export const ENRICHED_FIELDS: readonly FieldSpec[] = [
  { name: 'src_ip_is_private', kind: 'boolean' },
  { name: 'dst_ip_is_private', kind: 'boolean' },
  { name: 'src_in_home', kind: 'boolean' },
  { name: 'dst_in_home', kind: 'boolean' },
  { name: 'direction', kind: 'string' },
  { name: 'event_year', kind: 'integer' },
  { name: 'event_month', kind: 'integer' },
  { name: 'event_day', kind: 'integer' },
  { name: 'event_hour', kind: 'integer' },
  { name: 'event_weekday', kind: 'integer' },
  { name: 'ioc', kind: 'json' },
  { name: 'src_asset', kind: 'json' },
  { name: 'dst_asset', kind: 'json' },
  { name: 'src_geo', kind: 'json' },
  { name: 'dst_geo', kind: 'json' },
];

/** Where a column's value comes from in the envelope. */
export type ColumnSource = 'id' | 'source' | 'log_type' | 'normalized' | 'enriched' | 'extra' | 'raw';

export interface Column {
  name: string;
  kind: ColumnKind;
  from: ColumnSource;
  /** Key in `normalized` / `enriched` (same as name for canonical fields). */
  key: string;
}

export interface LakeSchema {
  columns: readonly Column[];
  normalizedKeys: ReadonlySet<string>;
  enrichedKeys: ReadonlySet<string>;
}

/** Builds the fixed column list once; the writer turns each envelope into one row of it. */
export function buildLakeSchema(
  normalized: readonly FieldSpec[] = NORMALIZED_FIELDS,
  enriched: readonly FieldSpec[] = ENRICHED_FIELDS,
): LakeSchema {
  const columns: Column[] = [
    { name: 'id', kind: 'string', from: 'id', key: 'id' },
    { name: 'source', kind: 'string', from: 'source', key: 'source' },
    { name: 'log_type', kind: 'string', from: 'log_type', key: 'log_type' },
  ];
  const taken = new Set(columns.map((c) => c.name));
  for (const f of normalized) {
    if (taken.has(f.name)) continue;
    taken.add(f.name);
    columns.push({ name: f.name, kind: f.kind, from: 'normalized', key: f.name });
  }
  for (const f of enriched) {
    if (taken.has(f.name)) continue;
    taken.add(f.name);
    columns.push({ name: f.name, kind: f.kind, from: 'enriched', key: f.name });
  }
  columns.push({ name: 'extra', kind: 'json', from: 'extra', key: 'extra' });
  columns.push({ name: 'raw', kind: 'json', from: 'raw', key: 'raw' });
  return {
    columns,
    normalizedKeys: new Set(normalized.map((f) => f.name)),
    enrichedKeys: new Set(enriched.map((f) => f.name)),
  };
}

/** Quotes an SQL identifier (column names come from data when typed raw columns are on). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `CREATE TEMP TABLE` body for a column list. */
export function columnDdl(columns: readonly { name: string; kind: ColumnKind }[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${DUCKDB_TYPE[c.kind]}`).join(', ');
}

/**
 * The fields of `layer` not in the dictionary, as JSON text (or null when there are none): the
 * `extra` column, so a field added by a custom mapping is still queryable with json_extract.
 */
export function extraFieldsJson(env: Envelope, schema: LakeSchema): string | null {
  let extra: Record<string, unknown> | null = null;
  for (const key in env.normalized) {
    if (schema.normalizedKeys.has(key)) continue;
    extra ??= {};
    extra[key] = env.normalized[key];
  }
  for (const key in env.enriched) {
    if (schema.enrichedKeys.has(key)) continue;
    extra ??= {};
    extra[key] = env.enriched[key];
  }
  return extra === null ? null : JSON.stringify(extra);
}

/** The column kind of a raw JS value, for typed raw columns (the parser already typed raw values). */
export function kindOfValue(value: unknown): ColumnKind | null {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return 'strings';
      return 'json';
    default:
      return null;
  }
}
