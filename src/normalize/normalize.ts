import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Envelope, Fields, ParsedRecord } from '../core/envelope.ts';
import { MappingInvalidError } from '../core/errors.ts';
import { flowCommunityId } from './community-id.ts';
import { SEVERITY_SCORES, type Severity } from './fields.ts';
import {
  type CompiledMapping,
  checkMappingDoc,
  compileMapping,
  ENRICHMENTS,
  type EnrichmentName,
  type MappingDoc,
  mergeMappingDocs,
} from './mapping.ts';

/**
 * The normalizer: parsed record → envelope with `normalized` filled from the per-log-type mapping.
 * Mappings load once (shipped ones from src/normalize/mappings, then config.mappings on top) and are
 * compiled to step arrays; `<source>/_defaults.yaml` holds what every log type of a source shares
 * (Zeek's `id.orig_h`…, Suricata's `src_ip`…) and applies to log types without their own file.
 */
export interface Normalizer {
  normalize(parsed: ParsedRecord, id: string, ingestTimeMs: number): Envelope;
  /** Which enrichments the mapping of this source/log type asks for. */
  enrichmentsFor(source: string, logType: string): ReadonlySet<EnrichmentName>;
  /** The compiled mapping used for a source/log type (undefined: none, only times are set). */
  mappingFor(source: string, logType: string): CompiledMapping | undefined;
  /** Every source/log type with a mapping of its own (not only `_defaults`). */
  logTypes(): string[];
}

export interface NormalizerOptions {
  /** Mapping files or folders from config.mappings; they add or override the shipped ones. */
  extraMappings?: string[];
  /** Replace the shipped mappings folder (tests). */
  builtinDir?: string;
}

export const BUILTIN_MAPPINGS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'mappings');
const DEFAULTS = '_defaults';
const MAPPING_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const ALL_ENRICHMENTS: ReadonlySet<EnrichmentName> = new Set(ENRICHMENTS);

interface LoadedDoc {
  source: string;
  logType: string;
  doc: MappingDoc;
  file: string;
}

function readDoc(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new MappingInvalidError(
      `${file}: (top level): not valid ${extname(file).slice(1)}: ${(error as Error).message}`,
    );
  }
}

/** A file is `<source>/<log_type>.yaml` unless it names `source`/`log_type` itself. */
function loadFile(file: string): LoadedDoc[] {
  const raw = readDoc(file);
  const fromPath = { source: basename(dirname(file)), logType: basename(file, extname(file)) };
  // The seed's normalization.json holds several log types keyed by name: { dns: {...}, conn: {...} }.
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw as Record<string, unknown>);
    const isMulti =
      entries.length > 0 &&
      entries.every(
        ([, v]) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) && ('promote' in v || 'fields' in v),
      );
    if (isMulti) {
      return entries.map(([logType, value]) => {
        const v = { ...(value as Record<string, unknown>) };
        // In the seed `source` is a label like "zeek_dns"; the family is the folder or `zeek`.
        const source = typeof v.source === 'string' && !v.source.includes('_') ? v.source : 'zeek';
        delete v.source;
        return { source, logType, doc: checkMappingDoc(`${file}#${logType}`, v), file: `${file}#${logType}` };
      });
    }
  }
  const doc = checkMappingDoc(file, raw);
  return [{ source: doc.source ?? fromPath.source, logType: doc.log_type ?? fromPath.logType, doc, file }];
}

function listMappingFiles(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new MappingInvalidError(`${path}: (top level): mapping file or folder not found`);
  }
  if (stat.isFile()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...listMappingFiles(full));
    else if (MAPPING_EXTENSIONS.has(extname(entry.name))) out.push(full);
  }
  return out;
}

const key = (source: string, logType: string): string => `${source}\u0000${logType}`;

/** Load and merge every mapping: shipped first, then each extra path in order (later wins). */
export function loadMappings(options: NormalizerOptions = {}): Map<string, CompiledMapping> {
  const docs = new Map<string, { doc: MappingDoc; origin: string[]; source: string; logType: string }>();
  const paths = [options.builtinDir ?? BUILTIN_MAPPINGS_DIR, ...(options.extraMappings ?? [])];
  for (const path of paths) {
    for (const file of listMappingFiles(path)) {
      for (const loaded of loadFile(file)) {
        const k = key(loaded.source, loaded.logType);
        const existing = docs.get(k);
        if (existing) {
          existing.doc = mergeMappingDocs(existing.doc, loaded.doc);
          existing.origin.push(loaded.file);
        } else {
          docs.set(k, {
            doc: loaded.doc,
            origin: [loaded.file],
            source: loaded.source,
            logType: loaded.logType,
          });
        }
      }
    }
  }
  const compiled = new Map<string, CompiledMapping>();
  for (const [k, entry] of docs) {
    const defaults = entry.logType === DEFAULTS ? undefined : docs.get(key(entry.source, DEFAULTS));
    const doc = defaults ? mergeMappingDocs(defaults.doc, entry.doc) : entry.doc;
    const origin = defaults ? [...defaults.origin, ...entry.origin] : entry.origin;
    compiled.set(k, compileMapping(entry.source, entry.logType, doc, origin));
  }
  return compiled;
}

function setSeverityScore(normalized: Fields): void {
  const severity = normalized.severity;
  if (severity !== undefined && normalized.severity_score === undefined) {
    normalized.severity_score = SEVERITY_SCORES[severity as Severity];
  }
}

/** Community ID for records that carry a flow 5-tuple but no community_id (spec v1, seed 0). */
function setCommunityId(normalized: Fields): void {
  if (normalized.community_id !== undefined) return;
  const { src_ip, dst_ip, protocol } = normalized;
  if (typeof src_ip !== 'string' || typeof dst_ip !== 'string' || typeof protocol !== 'string') return;
  const id = flowCommunityId(
    src_ip,
    dst_ip,
    protocol,
    normalized.src_port as number | undefined,
    normalized.dst_port as number | undefined,
  );
  if (id !== undefined) normalized.community_id = id;
}

function normalizeWith(
  mapping: CompiledMapping | undefined,
  parsed: ParsedRecord,
  ingestTimeMs: number,
): Fields {
  // event_time: the mapping's time field when it has one (Zeek and Suricata: epoch seconds or
  // ISO 8601, truncated to ms as in the Zeek → Parquet seed), else the parser's (syslog and nginx
  // times need the parser's year inference and zone), else the ingest time.
  const normalized: Fields = { event_time: parsed.eventTimeMs ?? ingestTimeMs, ingest_time: ingestTimeMs };
  if (mapping === undefined) {
    normalized.event_type = parsed.log_type;
    return normalized;
  }
  mapping.apply(parsed.raw, normalized);
  setSeverityScore(normalized);
  setCommunityId(normalized);
  return normalized;
}

export function createNormalizer(options: NormalizerOptions = {}): Normalizer {
  const mappings = loadMappings(options);
  // Resolution per source/log type is cached: the lookup runs per event.
  // Two levels (source → log type) so the per-event lookup builds no key string.
  const resolved = new Map<string, Map<string, CompiledMapping | null>>();
  const mappingFor = (source: string, logType: string): CompiledMapping | undefined => {
    let bySource = resolved.get(source);
    if (bySource === undefined) {
      bySource = new Map();
      resolved.set(source, bySource);
    }
    const cached = bySource.get(logType);
    if (cached !== undefined) return cached ?? undefined;
    const found = mappings.get(key(source, logType)) ?? mappings.get(key(source, DEFAULTS));
    bySource.set(logType, found ?? null);
    return found;
  };
  return {
    normalize(parsed, id, ingestTimeMs) {
      return {
        id,
        source: parsed.source,
        log_type: parsed.log_type,
        raw: parsed.raw,
        normalized: normalizeWith(mappingFor(parsed.source, parsed.log_type), parsed, ingestTimeMs),
        enriched: {},
      };
    },
    enrichmentsFor(source, logType) {
      return mappingFor(source, logType)?.enrich ?? ALL_ENRICHMENTS;
    },
    mappingFor,
    logTypes() {
      return [...mappings.values()]
        .filter((m) => m.logType !== DEFAULTS)
        .map((m) => `${m.source}/${m.logType}`)
        .sort();
    },
  };
}
