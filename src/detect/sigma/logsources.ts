/**
 * Loads logsources.yaml (which events a Sigma rule sees and how its field names map onto the
 * envelope) and compiles each mapping into field getters, once. See the YAML file's header for
 * the format.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import type { Envelope } from '../../core/envelope.ts';
import { RuleInvalidError, UsageError } from '../../core/errors.ts';
import {
  type eventSchema,
  type FieldSpec,
  type Layer,
  type LogsourceEntry,
  type LogsourceKey,
  type LogsourceTable,
  logsourceTableSchema,
  type mappedSchema,
} from './logsource-schema.ts';
import type { FieldScope, Getter, KeywordScan, ScalarTest } from './modifiers.ts';

export type { LogsourceEntry, LogsourceKey, LogsourceTable } from './logsource-schema.ts';
export { logsourceTableSchema } from './logsource-schema.ts';

/** Where a name the field map does not name is read: raw as written, then canonical. */
export const DEFAULT_FALLBACK: readonly Layer[] = ['raw', 'normalized'];

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

/**
 * The keys a path can be read by, precomputed: `joined[k][j]` is segments k..j−1 joined by dots,
 * so a key that is partly nested and partly dotted (`User.Mobile.phone` on
 * `{"User": {"Mobile.phone": "1"}}`) is found without building a string per event.
 */
type JoinedKeys = string[][];

function joinedKeys(segs: readonly string[]): JoinedKeys {
  return segs.map((_, k) => segs.map((_, j) => segs.slice(k, j + 1).join('.')));
}

/**
 * Reads segments k.. of a path from `value`: at each object the longest dotted key present wins
 * (a literal `a.b` key before `a` → `b`), falling back to shorter ones when that leads nowhere.
 */
function walk(value: unknown, segs: readonly string[], k: number, keys: JoinedKeys): unknown {
  if (k === segs.length) return value;
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    // Arrays of objects (EVE dns answers): collect the path from every element.
    const out: unknown[] = [];
    for (const el of value) {
      const v = walk(el, segs, k, keys);
      if (Array.isArray(v)) out.push(...v);
      else if (v !== undefined) out.push(v);
    }
    return out.length > 0 ? out : undefined;
  }
  const obj = value as Record<string, unknown>;
  const row = keys[k];
  for (let j = segs.length - 1; j >= k; j--) {
    const next = obj[row[j]];
    if (next === undefined) continue;
    const v = walk(next, segs, j + 1, keys);
    if (v !== undefined) return v;
  }
  return undefined;
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
  const keys = joinedKeys(segs);
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
      return Array.isArray(inner) ? walk(inner, segs, 1, keys) : (inner as Record<string, unknown>)[second];
    };
  }
  return (env) => {
    const obj = layer(env);
    const direct = obj[key];
    return direct !== undefined ? direct : walk(obj, segs, 0, keys);
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

/**
 * Keyword search: every string, number and boolean of the value, each by its text (keyword `42`
 * matches `"Age": 42`, as the same value compared through a field would).
 */
function scanStrings(value: unknown, test: ScalarTest, depth: number): boolean {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return test(value);
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
  const table = new Map(Object.entries(spec.map).map(([k, v]) => [k.trim().toLowerCase(), v]));
  // Values are looked up trimmed and case-insensitively (`" Critical"` is `critical`).
  const translate = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' ? table.get(String(v).trim().toLowerCase()) : undefined;
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
  // The one rule (docs/rules.md): the field map first, then the raw event as written, then the
  // canonical field of that name (so no normalized copy shadows a raw field).
  const fallback = ev.fallback ?? DEFAULT_FALLBACK;
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

/**
 * The bundled table with the user's entries (socstream.yaml `detect.logsources`, `--logsource`)
 * added: an entry for a logsource the table already has adds its event kinds to it, and replaces
 * the table's event of the same source + log type (so a user can remap one kind); a new logsource
 * is appended. Nothing is removed.
 */
export function withExtraLogsources(table: LogsourceTable, extra: readonly LogsourceEntry[]): LogsourceTable {
  if (extra.length === 0) return table;
  const logsources = table.logsources.map((e) => ({ ...e, events: [...e.events] }));
  for (const entry of extra) {
    const key = logsourceKey(entry.logsource);
    const existing = logsources.find((e) => logsourceKey(e.logsource) === key);
    if (!existing) {
      logsources.push({ ...entry, events: [...entry.events] });
      continue;
    }
    for (const ev of entry.events) {
      const i = existing.events.findIndex((x) => x.source === ev.source && x.log_type === ev.log_type);
      if (i >= 0) existing.events[i] = ev;
      else existing.events.push(ev);
    }
  }
  return { ...table, logsources };
}

const FLAG = /^([a-z]+=[^,@=]+(?:,[a-z]+=[^,@=]+)*)@([^/\s]+)(?:\/(\S+))?$/;

/**
 * `--logsource product=myapp[,category=…][,service=…]@SOURCE[/LOG_TYPE]` and its `--field-map
 * NAME=PATH` flags as a logsource entry. A PATH without a layer (`user.name`) is a raw path.
 * A malformed flag is a usage error (exit 2) naming the flag and the fix.
 */
export function logsourceFromFlags(spec: string, fieldMaps: readonly string[] = []): LogsourceEntry {
  const m = FLAG.exec(spec.trim());
  if (!m)
    throw new UsageError(
      `--logsource ${spec}: expected product=NAME[,category=NAME][,service=NAME]@SOURCE[/LOG_TYPE], e.g. product=myapp@json`,
    );
  const logsource: Record<string, string> = {};
  for (const pair of m[1].split(',')) {
    const [k, v] = pair.split('=');
    if (!(KEYS as readonly string[]).includes(k))
      throw new UsageError(`--logsource ${spec}: '${k}' is not product, category or service`);
    logsource[k] = v;
  }
  const fields: Record<string, string> = {};
  for (const f of fieldMaps) {
    const eq = f.indexOf('=');
    if (eq <= 0 || eq === f.length - 1)
      throw new UsageError(`--field-map ${f}: expected SIGMA_NAME=PATH, e.g. User=user.name`);
    const path = f.slice(eq + 1);
    fields[f.slice(0, eq)] = /^(raw|normalized|enriched)\./.test(path) ? path : `raw.${path}`;
  }
  const event: LogsourceEntry['events'][number] = { source: m[2] };
  if (m[3]) event.log_type = m[3];
  if (Object.keys(fields).length > 0) event.fields = fields;
  return { logsource, events: [event] };
}

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
export function logsourceKey(ls: LogsourceKey): string {
  return KEYS.map((k) => (typeof ls[k] === 'string' ? ls[k].toLowerCase() : '')).join('\u001f');
}

/** Does an envelope belong to a variant (or a rule target built from one)? */
export function variantAccepts(v: Pick<LogsourceVariant, 'source' | 'logType'>, env: Envelope): boolean {
  return v.source === env.source && (v.logType === undefined || v.logType === env.log_type);
}
