/**
 * Loads logsources.yaml (which events a Sigma rule sees and how its field names map onto the
 * envelope) and compiles each mapping into field getters, once. See the YAML file's header for
 * the format.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Envelope } from '../../core/envelope.ts';
import { RuleInvalidError } from '../../core/errors.ts';
import type { FieldScope, Getter, KeywordScan, ScalarTest } from './modifiers.ts';

const LAYERS = ['raw', 'normalized', 'enriched'] as const;
type Layer = (typeof LAYERS)[number];

const pathSchema = z
  .string()
  .regex(/^(raw|normalized|enriched)\.\S+$/, 'a path starts with raw., normalized. or enriched.');
const pathsSchema = z.union([pathSchema, z.array(pathSchema).min(1)]);
/**
 * A derived field (pySigma's value mapping): read `from`, translate its value through `map`
 * (case-insensitive); values the map does not name make the field absent.
 */
const mappedSchema = z.object({ from: pathsSchema, map: z.record(z.string(), z.string()) }).strict();
const fieldSpecSchema = z.union([
  pathSchema,
  mappedSchema,
  z.array(z.union([pathSchema, mappedSchema])).min(1),
]);
const fieldMapSchema = z.record(z.string(), fieldSpecSchema);
type FieldSpec = z.infer<typeof fieldSpecSchema>;

const eventSchema = z
  .object({
    source: z.string().min(1),
    log_type: z.string().min(1).optional(),
    fields: z.union([z.string(), z.array(z.union([z.string(), fieldMapSchema])), fieldMapSchema]).optional(),
    fallback: z.array(z.enum(LAYERS)).optional(),
    keywords: z.array(pathSchema).optional(),
  })
  .strict();

const logsourceKeySchema = z
  .object({ product: z.string().optional(), category: z.string().optional(), service: z.string().optional() })
  .strict();

export const logsourceTableSchema = z
  .object({
    fieldsets: z.record(z.string(), fieldMapSchema).default({}),
    logsources: z.array(
      z.object({ logsource: logsourceKeySchema, events: z.array(eventSchema).min(1) }).strict(),
    ),
  })
  .strict();

export type LogsourceTable = z.infer<typeof logsourceTableSchema>;
export type LogsourceKey = z.infer<typeof logsourceKeySchema>;

export const DEFAULT_LOGSOURCES_FILE = new URL('./logsources.yaml', import.meta.url);

/** Reads and validates a logsource table; a bad table is a config error naming the file and path. */
export function loadLogsourceTable(file: URL | string = DEFAULT_LOGSOURCES_FILE): LogsourceTable {
  const parsed = logsourceTableSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuleInvalidError(`${String(file)}: ${issue.path.join('.')}: ${issue.message}`);
  }
  for (const entry of parsed.data.logsources) {
    for (const ev of entry.events) {
      for (const name of fieldsetNames(ev.fields)) {
        if (!(name in parsed.data.fieldsets)) {
          throw new RuleInvalidError(
            `${String(file)}: events of ${JSON.stringify(entry.logsource)} use unknown fieldset '${name}'`,
          );
        }
      }
    }
  }
  return parsed.data;
}

function fieldsetNames(fields: z.infer<typeof eventSchema>['fields']): string[] {
  if (fields === undefined) return [];
  if (typeof fields === 'string') return [fields];
  if (Array.isArray(fields)) return fields.filter((f): f is string => typeof f === 'string');
  return [];
}

// ---------------------------------------------------------------------------------------------
// Getters.

function walk(value: unknown, segs: readonly string[], i: number): unknown {
  let cur = value;
  for (let k = i; k < segs.length; k++) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      // Arrays of objects (EVE dns answers): collect the path from every element.
      const out: unknown[] = [];
      for (const el of cur) {
        const v = walk(el, segs, k);
        if (Array.isArray(v)) out.push(...v);
        else if (v !== undefined) out.push(v);
      }
      return out.length > 0 ? out : undefined;
    }
    if (typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[segs[k]];
  }
  return cur;
}

/** The layer object of an envelope, read by a constant property name (one envelope shape). */
function layerOf(layer: Layer): (env: Envelope) => Record<string, unknown> {
  if (layer === 'raw') return (env) => env.raw;
  if (layer === 'normalized') return (env) => env.normalized;
  return (env) => env.enriched;
}

/** A getter for `layer.path`: the literal (dotted) key first, then the nested path. */
export function compilePath(path: string): Getter {
  const dot = path.indexOf('.');
  const layer = layerOf(path.slice(0, dot) as Layer);
  const key = path.slice(dot + 1);
  const segs = key.split('.');
  if (segs.length === 1) return (env) => layer(env)[key];
  if (segs.length === 2) {
    // `a.b` (most nested paths): the walk without its loop; arrays still go through walk.
    const [first, second] = segs;
    return (env) => {
      const obj = layer(env);
      const direct = obj[key];
      if (direct !== undefined) return direct;
      const inner = obj[first];
      if (inner === null || typeof inner !== 'object') return undefined;
      return Array.isArray(inner) ? walk(inner, segs, 1) : (inner as Record<string, unknown>)[second];
    };
  }
  return (env) => {
    const obj = layer(env);
    const direct = obj[key];
    return direct !== undefined ? direct : walk(obj, segs, 0);
  };
}

function firstPresent(getters: Getter[]): Getter {
  if (getters.length === 1) return getters[0];
  if (getters.length === 2) {
    const [a, b] = getters;
    return (env) => {
      const v = a(env);
      return v !== undefined ? v : b(env);
    };
  }
  return (env) => {
    for (const g of getters) {
      const v = g(env);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

function scanStrings(value: unknown, test: ScalarTest, depth: number): boolean {
  if (typeof value === 'string') return test(value);
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const v of value) if (scanStrings(v, test, depth + 1)) return true;
    return false;
  }
  for (const key in value as Record<string, unknown>) {
    if (scanStrings((value as Record<string, unknown>)[key], test, depth + 1)) return true;
  }
  return false;
}

const scanRaw: KeywordScan = (env, test) => scanStrings(env.raw, test, 0);

// ---------------------------------------------------------------------------------------------
// Variants: one per event kind a logsource covers.

export interface LogsourceVariant {
  source: string;
  /** Undefined: every log type of the source. */
  logType: string | undefined;
  scope: FieldScope;
}

function paths(spec: string | string[]): string[] {
  return Array.isArray(spec) ? spec : [spec];
}

type OneSpec = string | z.infer<typeof mappedSchema>;

function compileOne(spec: OneSpec): Getter {
  if (typeof spec === 'string') return compilePath(spec);
  const source = firstPresent(paths(spec.from).map(compilePath));
  const table = new Map(Object.entries(spec.map).map(([k, v]) => [k.toLowerCase(), v]));
  const translate = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' ? table.get(String(v).toLowerCase()) : undefined;
  return (env) => {
    const v = source(env);
    if (!Array.isArray(v)) return translate(v);
    const out = v.map(translate).filter((x) => x !== undefined);
    return out.length > 0 ? out : undefined;
  };
}

/** A field spec → one getter; a list means "the first one present". */
function compileSpec(spec: FieldSpec): Getter {
  return firstPresent((Array.isArray(spec) ? spec : [spec]).map(compileOne));
}

function buildScope(ev: z.infer<typeof eventSchema>, table: LogsourceTable): FieldScope {
  const map = new Map<string, FieldSpec>();
  const sets = ev.fields === undefined ? [] : Array.isArray(ev.fields) ? ev.fields : [ev.fields];
  for (const set of sets) {
    const fields = typeof set === 'string' ? table.fieldsets[set] : set;
    for (const [name, spec] of Object.entries(fields)) map.set(name, spec);
  }
  const fallback = ev.fallback ?? ['normalized', 'raw'];
  const cache = new Map<string, Getter>();
  const keywordGetters = ev.keywords?.map(compilePath);
  const keywords: KeywordScan = keywordGetters
    ? (env, test) => {
        for (const g of keywordGetters) if (scanStrings(g(env), test, 0)) return true;
        return false;
      }
    : scanRaw;
  return {
    field(name) {
      let g = cache.get(name);
      if (!g) {
        const spec = map.get(name) ?? fallback.map((layer) => `${layer}.${name}`);
        g = compileSpec(spec);
        cache.set(name, g);
      }
      return g;
    },
    keywords,
  };
}

const KEYS = ['product', 'category', 'service'] as const;

/** The logsource index: a rule's logsource → the event variants it sees. */
export interface LogsourceIndex {
  variants(logsource: LogsourceKey): LogsourceVariant[];
}

export function createLogsourceIndex(table: LogsourceTable): LogsourceIndex {
  const byKey = new Map<string, LogsourceVariant[]>();
  for (const entry of table.logsources) {
    const variants = entry.events.map((ev) => ({
      source: ev.source,
      logType: ev.log_type,
      scope: buildScope(ev, table),
    }));
    byKey.set(logsourceKey(entry.logsource), variants);
  }
  return { variants: (ls) => byKey.get(logsourceKey(ls)) ?? [] };
}

/** Exact match on product/category/service, case-insensitively (rules write `Zeek` too). */
function logsourceKey(ls: LogsourceKey): string {
  return KEYS.map((k) => (typeof ls[k] === 'string' ? ls[k].toLowerCase() : '')).join('\u001f');
}

/** Does an envelope belong to a variant (or a rule target built from one)? */
export function variantAccepts(v: Pick<LogsourceVariant, 'source' | 'logType'>, env: Envelope): boolean {
  return v.source === env.source && (v.logType === undefined || v.logType === env.log_type);
}
