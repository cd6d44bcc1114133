import type { Envelope } from '../../core/envelope.ts';
import {
  ENRICHED_FIELDS as CANONICAL_ENRICHED,
  NORMALIZED_FIELDS as CANONICAL_NORMALIZED,
  type FieldType,
} from '../../normalize/fields.ts';

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

/** Dictionary type (src/normalize/fields.ts) → column kind. */
const KIND_OF_FIELD_TYPE: Record<FieldType, ColumnKind> = {
  string: 'string',
  ip: 'string',
  number: 'number',
  boolean: 'boolean',
  'string[]': 'strings',
  time_ms: 'timestamp',
  object: 'json',
  'object[]': 'json',
};

/**
 * Numbers the dictionary types as `number` that are whole by nature: stored as BIGINT so
 * `dst_port = 22` prints 22, not 22.0. A fraction in one of them becomes NULL (counted nowhere:
 * the raw JSON keeps the original value).
 */
export const INTEGER_VALUED_FIELDS: ReadonlySet<string> = new Set([
  'src_port',
  'dst_port',
  'vlan',
  'bytes_in',
  'bytes_out',
  'packets_in',
  'packets_out',
  'process_id',
  'signature_id',
  'signature_rev',
  'severity_score',
  'dns_trans_id',
  'http_status',
  'request_bytes',
  'response_bytes',
  'file_size',
  'attempts',
  'event_year',
  'event_month',
  'event_day',
  'event_hour',
  'event_weekday',
  'src_asn',
  'dst_asn',
]);

/** The dictionary's fields as lake columns, in dictionary order. */
export function fieldsOf(table: Readonly<Record<string, { type: FieldType }>>): FieldSpec[] {
  return Object.entries(table).map(([name, spec]) => {
    const kind = KIND_OF_FIELD_TYPE[spec.type];
    return { name, kind: kind === 'number' && INTEGER_VALUED_FIELDS.has(name) ? 'integer' : kind };
  });
}

/** Canonical normalized fields (docs/schema.md, src/normalize/fields.ts). */
export const NORMALIZED_FIELDS: readonly FieldSpec[] = fieldsOf(CANONICAL_NORMALIZED);

/** Enriched fields (docs/schema.md). */
export const ENRICHED_FIELDS: readonly FieldSpec[] = fieldsOf(CANONICAL_ENRICHED);

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
