import { isIP } from 'node:net';
import type { Fields } from '../core/envelope.ts';
import { MappingInvalidError } from '../core/errors.ts';
import { type FieldSpec, isNormalizedField, NORMALIZED_FIELDS, type NormalizedField } from './fields.ts';

/**
 * A mapping file (src/normalize/mappings/<source>/<log_type>.yaml) as written, and its compiled
 * form. The tree is interpreted once, here: `compileMapping` builds the steps (getters, converters,
 * value tables, type coercion) and one generated function per log type that applies them, so
 * normalizing an event runs straight-line code with no look at the YAML tree.
 *
 * ```yaml
 * static: { event_class: dns, event_type: dns }
 * fields:
 *   flow_id: uid                         # a raw key (dotted keys and nested paths both work)
 *   src_ip: [id.orig_h, src]             # candidates: the first present wins
 *   dns_answers: dns.answers.*.rdata     # `.*` maps over an array
 *   duration_ms: { from: duration, as: ms_from_seconds }
 *   outcome: { from: auth_success, map: { 'true': success, 'false': failure }, default: unknown }
 * enrich: [network, time, ioc, assets, geo]
 * ```
 */
export const ENRICHMENTS = ['network', 'time', 'ioc', 'assets', 'geo'] as const;
export type EnrichmentName = (typeof ENRICHMENTS)[number];

export interface FieldRuleObject {
  from: string | string[];
  as?: ConverterName | ConverterName[];
  map?: Record<string, unknown>;
  default?: unknown;
}
export type FieldRule = string | string[] | FieldRuleObject | null;

export interface MappingDoc {
  source?: string;
  log_type?: string;
  description?: string;
  static?: Record<string, unknown>;
  fields?: Record<string, FieldRule>;
  enrich?: EnrichmentName[] | Partial<Record<EnrichmentName, boolean>>;
}

type Converter = (value: unknown) => unknown;

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.length > 0) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** Epoch seconds (Zeek, float), epoch ms (large numbers) or a date string → epoch ms, truncated. */
function toTimeMs(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    // Seconds until the year 5138; anything larger is already milliseconds.
    return Math.floor(v < 1e11 ? v * 1000 : v);
  }
  if (typeof v === 'string' && v.length > 0) {
    const asNumber = Number(v);
    if (Number.isFinite(asNumber)) return toTimeMs(asNumber);
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * String(v), with integers of nine to sixteen digits written as two halves: ids logged as numbers
 * (Suricata's flow_id) are such integers, and V8's general double-to-text for them costs about
 * three times the two small conversions. Exact for safe integers (the quotient is corrected).
 */
export function textOf(v: unknown): string {
  if (typeof v !== 'number' || !(v >= 1e8 || v <= -1e8) || !Number.isSafeInteger(v)) return String(v);
  const abs = v < 0 ? -v : v;
  let high = Math.floor(abs / 1e8);
  let low = abs - high * 1e8;
  if (low < 0) {
    high -= 1;
    low += 1e8;
  } else if (low >= 1e8) {
    high += 1;
    low -= 1e8;
  }
  const lowText = String(low);
  return `${v < 0 ? '-' : ''}${high}${'00000000'.slice(lowText.length)}${lowText}`;
}

/** Converters a mapping can name in `as:`; applied in order before the field's type coercion. */
export const CONVERTERS = {
  string: (v: unknown) => (v === undefined ? undefined : typeof v === 'string' ? v : textOf(v)),
  number: toNumber,
  lower: (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v),
  upper: (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v),
  first: (v: unknown) => (Array.isArray(v) ? v[0] : v),
  last: (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v),
  join: (v: unknown) => (Array.isArray(v) ? v.join(',') : v),
  /** A TCP/UDP port (or ICMP type/code): an integer 0..65535, anything else is no value. */
  port: (v: unknown) => {
    const n = toNumber(v);
    return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
  },
  ms_from_seconds: (v: unknown) => {
    const n = toNumber(v);
    return n === undefined ? undefined : Math.round(n * 1000);
  },
  ms_from_us: (v: unknown) => {
    const n = toNumber(v);
    return n === undefined ? undefined : Math.round(n / 1000);
  },
  time: toTimeMs,
  /** "example.com." → "example.com" (DNS names in some logs end with the root dot). */
  strip_dot: (v: unknown) => (typeof v === 'string' && v.endsWith('.') ? v.slice(0, -1) : v),
  /** Hex hashes compare lowercase. */
  hex: (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v),
  /** Numbers logged as text ("404") and ids logged as numbers (flow_id) both become strings. */
  to_string: (v: unknown) => (v === undefined || v === null ? undefined : textOf(v)),
  /** "::ffff:1.2.3.4" → "1.2.3.4": IPv4-mapped IPv6 as sshd and nginx log it. */
  unmap_ipv4: (v: unknown) =>
    typeof v === 'string' && v.startsWith('::ffff:') && v.includes('.') ? v.slice(7) : v,
  /**
   * An address or nothing (node:net isIP, IPv4-mapped IPv6 unmapped): where a log's address column
   * may hold `unix:`, `localhost` or a host name (nginx `$remote_addr`), none of which is an IP.
   */
  ip: (v: unknown) => {
    if (typeof v !== 'string') return undefined;
    const s = v.startsWith('::ffff:') && v.includes('.') ? v.slice(7) : v;
    return isIP(s) === 0 ? undefined : s;
  },
} as const satisfies Record<string, Converter>;
export type ConverterName = keyof typeof CONVERTERS;

/** Coercion by the canonical field's declared type: a value that does not fit becomes absent. */
function coercerFor(spec: FieldSpec): Converter {
  const allowed = spec.values ? new Set(spec.values) : undefined;
  switch (spec.type) {
    case 'number':
      return toNumber;
    case 'time_ms':
      return toTimeMs;
    case 'boolean':
      return (v) =>
        typeof v === 'boolean'
          ? v
          : v === 'true' || v === 'T'
            ? true
            : v === 'false' || v === 'F'
              ? false
              : undefined;
    case 'string[]':
      return (v) => (Array.isArray(v) ? v.map(String) : v === undefined ? undefined : [String(v)]);
    case 'object':
    case 'object[]':
      return (v) => v;
    default:
      // string and ip; sets (arrays) join with ',' so nothing is silently dropped.
      return (v) => {
        const s =
          typeof v === 'string' ? v : Array.isArray(v) ? (v.length ? v.join(',') : undefined) : textOf(v);
        if (s === undefined || s === '') return undefined;
        return allowed && !allowed.has(s) ? undefined : s;
      };
  }
}

/**
 * A raw-field getter built once per path. Zeek keeps dotted names flat (`id.orig_h`), Suricata nests
 * objects (`alert.signature` is raw.alert.signature): try the flat key, then walk the path.
 */
function getterFor(path: string): (raw: Fields) => unknown {
  // `dns.answers.*.rdata`: every element's rdata, as an array (absent elements skipped).
  const each = path.indexOf('.*');
  if (each > 0) {
    const list = getterFor(path.slice(0, each));
    const rest = path.slice(each + 2).replace(/^\./, '');
    const item = rest ? getterFor(rest) : undefined;
    return (raw) => {
      const value = list(raw);
      const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
      if (item === undefined) return items.length ? items : undefined;
      const out: unknown[] = [];
      for (const element of items) {
        if (element === null || typeof element !== 'object') continue;
        const v = item(element as Fields);
        if (v !== undefined && v !== null) out.push(v);
      }
      return out.length ? out : undefined;
    };
  }
  const parts = path.split('.');
  if (parts.length === 1) return (raw) => raw[path];
  return (raw) => {
    const flat = raw[path];
    if (flat !== undefined) return flat;
    let node: unknown = raw;
    for (let i = 0; i < parts.length; i++) {
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Fields)[parts[i]];
    }
    return node;
  };
}

export interface CompiledStep {
  readonly target: NormalizedField;
  /** The raw paths the getters read, in order (for the generated fast path). */
  readonly paths: readonly string[];
  readonly getters: readonly ((raw: Fields) => unknown)[];
  readonly converters: readonly Converter[];
  readonly valueMap: Map<string, unknown> | undefined;
  readonly fallback: unknown;
  readonly coerce: Converter;
}

export interface CompiledMapping {
  readonly source: string;
  readonly logType: string;
  readonly statics: readonly (readonly [NormalizedField, unknown])[];
  readonly steps: readonly CompiledStep[];
  readonly enrich: ReadonlySet<EnrichmentName>;
  /** Files this mapping was merged from, for error messages. */
  readonly origin: readonly string[];
  /** Statics then steps, applied onto `normalized`: the generated function (see generateApply). */
  readonly apply: (raw: Fields, normalized: Fields) => void;
}

const DOC_KEYS = new Set(['source', 'log_type', 'description', 'static', 'fields', 'promote', 'enrich']);
const RULE_KEYS = new Set(['from', 'as', 'map', 'default']);

function fail(file: string, key: string, problem: string): never {
  throw new MappingInvalidError(`${file}: ${key}: ${problem}`);
}

function checkField(file: string, key: string, name: string): NormalizedField {
  if (!isNormalizedField(name)) {
    fail(file, key, `unknown canonical field "${name}"; see docs/schema.md for the field dictionary`);
  }
  return name;
}

/** Validate the shape of one mapping document (already parsed from YAML/JSON). */
export function checkMappingDoc(file: string, doc: unknown): MappingDoc {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    fail(file, '(top level)', 'expected a mapping');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!DOC_KEYS.has(key)) fail(file, key, `unknown key; expected one of ${[...DOC_KEYS].join(', ')}`);
  }
  const fields = { ...((d.fields ?? {}) as Record<string, unknown>) };
  if (typeof d.fields !== 'undefined' && (typeof d.fields !== 'object' || Array.isArray(d.fields))) {
    fail(file, 'fields', 'expected a mapping');
  }
  // `promote` is the Zeek → Parquet seed's normalization.json: raw key → canonical name (inverted
  // to our canonical name → raw key).
  if (d.promote !== undefined) {
    if (d.promote === null || typeof d.promote !== 'object' || Array.isArray(d.promote)) {
      fail(file, 'promote', 'expected a mapping of raw field → canonical field');
    }
    for (const [rawKey, canonical] of Object.entries(d.promote as Record<string, unknown>)) {
      if (typeof canonical !== 'string') fail(file, `promote.${rawKey}`, 'expected a canonical field name');
      fields[canonical] = rawKey;
    }
  }
  for (const [name, rule] of Object.entries(fields)) {
    const key = `fields.${name}`;
    checkField(file, key, name);
    if (rule === null || typeof rule === 'string') continue;
    if (Array.isArray(rule)) {
      if (rule.length === 0 || !rule.every((r) => typeof r === 'string'))
        fail(file, key, 'expected raw field names');
      continue;
    }
    if (typeof rule !== 'object')
      fail(file, key, 'expected a raw field name, a list of them or {from, as, map, default}');
    const r = rule as Record<string, unknown>;
    for (const k of Object.keys(r))
      if (!RULE_KEYS.has(k)) fail(file, `${key}.${k}`, 'unknown key; expected from, as, map, default');
    const from = r.from;
    if (
      !(
        typeof from === 'string' ||
        (Array.isArray(from) && from.length > 0 && from.every((x) => typeof x === 'string'))
      )
    ) {
      fail(file, `${key}.from`, 'expected a raw field name or a list of them');
    }
    const as = r.as === undefined ? [] : Array.isArray(r.as) ? r.as : [r.as];
    for (const c of as) {
      if (typeof c !== 'string' || !Object.hasOwn(CONVERTERS, c)) {
        fail(
          file,
          `${key}.as`,
          `unknown converter "${String(c)}"; expected one of ${Object.keys(CONVERTERS).join(', ')}`,
        );
      }
    }
    if (r.map !== undefined && (r.map === null || typeof r.map !== 'object' || Array.isArray(r.map))) {
      fail(file, `${key}.map`, 'expected a mapping of raw value → canonical value');
    }
  }
  const statics = (d.static ?? {}) as Record<string, unknown>;
  if (typeof statics !== 'object' || Array.isArray(statics)) fail(file, 'static', 'expected a mapping');
  for (const [name, value] of Object.entries(statics)) {
    const field = checkField(file, `static.${name}`, name);
    const spec: FieldSpec = NORMALIZED_FIELDS[field];
    if (spec.values && !spec.values.includes(String(value))) {
      fail(file, `static.${name}`, `"${String(value)}" is not one of ${spec.values.join(', ')}`);
    }
  }
  const enrich = d.enrich;
  if (enrich !== undefined) {
    const names = Array.isArray(enrich)
      ? enrich
      : typeof enrich === 'object' && enrich !== null
        ? Object.keys(enrich)
        : fail(file, 'enrich', 'expected a list of enrichments');
    for (const n of names) {
      if (!(ENRICHMENTS as readonly unknown[]).includes(n)) {
        fail(file, 'enrich', `unknown enrichment "${String(n)}"; expected ${ENRICHMENTS.join(', ')}`);
      }
    }
  }
  return { ...(d as MappingDoc), fields: fields as Record<string, FieldRule> };
}

function enrichSet(enrich: MappingDoc['enrich']): Set<EnrichmentName> {
  if (enrich === undefined) return new Set(ENRICHMENTS);
  if (Array.isArray(enrich)) return new Set(enrich);
  return new Set((Object.keys(enrich) as EnrichmentName[]).filter((k) => enrich[k]));
}

/**
 * Layer `over` on `base`: fields and statics key by key, enrich replaced. A field set to null stays
 * null through later merges (the source defaults are merged underneath last) and is not compiled.
 */
export function mergeMappingDocs(base: MappingDoc, over: MappingDoc): MappingDoc {
  const fields: Record<string, FieldRule> = { ...base.fields, ...over.fields };
  return {
    ...base,
    ...over,
    fields,
    static: { ...base.static, ...over.static },
    enrich: over.enrich ?? base.enrich,
  };
}

function compileStep(file: string, target: NormalizedField, rule: Exclude<FieldRule, null>): CompiledStep {
  const r: FieldRuleObject = typeof rule === 'string' || Array.isArray(rule) ? { from: rule } : rule;
  const froms = Array.isArray(r.from) ? r.from : [r.from];
  const as = r.as === undefined ? [] : Array.isArray(r.as) ? r.as : [r.as];
  let valueMap: Map<string, unknown> | undefined;
  if (r.map) {
    valueMap = new Map(Object.entries(r.map));
    const spec: FieldSpec = NORMALIZED_FIELDS[target];
    for (const v of valueMap.values()) {
      if (spec.values && !spec.values.includes(String(v))) {
        fail(file, `fields.${target}.map`, `"${String(v)}" is not one of ${spec.values.join(', ')}`);
      }
    }
  }
  return {
    target,
    paths: froms,
    getters: froms.map(getterFor),
    converters: as.map((name) => CONVERTERS[name]),
    valueMap,
    fallback: r.default,
    coerce: coercerFor(NORMALIZED_FIELDS[target]),
  };
}

export function compileMapping(
  source: string,
  logType: string,
  doc: MappingDoc,
  origin: string[],
): CompiledMapping {
  const file = origin.join(' + ');
  const steps: CompiledStep[] = [];
  for (const [name, rule] of Object.entries(doc.fields ?? {})) {
    if (rule === null) continue;
    steps.push(compileStep(file, checkField(file, `fields.${name}`, name), rule));
  }
  const statics = Object.entries(doc.static ?? {}).map(
    ([name, value]) => [checkField(file, `static.${name}`, name), value] as const,
  );
  return {
    source,
    logType,
    statics,
    steps,
    enrich: enrichSet(doc.enrich),
    origin,
    apply: generateApply(statics, steps),
  };
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

/**
 * Generated code storing `v` (neither undefined nor null) into `n.<field>` after the field's type
 * coercion: strings, numbers and times of the expected JS type are checked inline (what the
 * coercer would do with them), anything else goes through the coercer `k<i>`.
 */
function storeCoerced(step: CompiledStep, i: number): string {
  const spec: FieldSpec = NORMALIZED_FIELDS[step.target];
  const set = `n.${step.target}`;
  const viaCoercer = `v = k${i}(v); if (v !== undefined) ${set} = v;`;
  switch (spec.type) {
    case 'string':
    case 'ip':
      if (spec.values) return viaCoercer;
      return `if (typeof v === 'string') { if (v !== '') ${set} = v; } else { ${viaCoercer} }`;
    case 'number':
      return `if (typeof v === 'number') { if (Number.isFinite(v)) ${set} = v; } else { ${viaCoercer} }`;
    case 'time_ms':
      // toTimeMs on a number: epoch seconds below 1e11, else already milliseconds; truncated.
      return `if (typeof v === 'number') { if (Number.isFinite(v)) ${set} = Math.floor(v < 1e11 ? v * 1000 : v); } else { ${viaCoercer} }`;
    default:
      return viaCoercer;
  }
}

/**
 * Generate the per-log-type function once at load: straight-line code per field, so the stores into
 * `normalized` are monomorphic, a step reads `raw["uid"]` directly instead of through closures and
 * the usual coercions (a string into a string field, a number into a number field) need no call.
 * A step with one raw path runs inline (its converters called in order); steps with candidates,
 * value maps or defaults call applyStep. Only dictionary field names (checked identifiers) become
 * code; raw paths are JSON string literals; values, converters and coercers stay in closure
 * constants, never in the source text.
 */
function generateApply(
  statics: readonly (readonly [NormalizedField, unknown])[],
  steps: readonly CompiledStep[],
): (raw: Fields, normalized: Fields) => void {
  const constants: string[] = [];
  const lines: string[] = ['let v;'];
  statics.forEach(([field], i) => {
    if (!IDENTIFIER.test(field)) throw new MappingInvalidError(`not an identifier: ${field}`);
    constants.push(`const st${i} = st[${i}];`);
    lines.push(`n.${field} = st${i};`);
  });
  steps.forEach((step, i) => {
    if (!IDENTIFIER.test(step.target)) throw new MappingInvalidError(`not an identifier: ${step.target}`);
    constants.push(`const s${i} = s[${i}]; const k${i} = s${i}.coerce; const g${i} = s${i}.getters[0];`);
    const inline = step.paths.length === 1 && step.valueMap === undefined && step.fallback === undefined;
    if (!inline) {
      lines.push(`v = applyStep(s${i}, raw); if (v !== undefined) n.${step.target} = v;`);
      return;
    }
    const path = step.paths[0];
    lines.push(`v = raw[${JSON.stringify(path)}];`);
    // Dotted paths may be nested objects (Suricata) rather than flat keys (Zeek).
    if (path.includes('.')) lines.push(`if (v === undefined) v = g${i}(raw);`);
    if (step.converters.length === 0) {
      lines.push(`if (v !== undefined && v !== null && v !== '') { ${storeCoerced(step, i)} }`);
      return;
    }
    const convert = step.converters.map((_, j) => {
      constants.push(`const c${i}_${j} = s${i}.converters[${j}];`);
      return `v = c${i}_${j}(v);`;
    });
    lines.push(
      `if (v !== undefined && v !== null && v !== '') { ${convert.join(' ')} if (v !== undefined && v !== null) { ${storeCoerced(step, i)} } }`,
    );
  });
  const factory = new Function(
    'st',
    's',
    'applyStep',
    `${constants.join('\n')}\nreturn function apply(raw, n) {\n${lines.join('\n')}\n};`,
  );
  return factory(
    statics.map(([, value]) => value),
    steps,
    applyStep,
  ) as (raw: Fields, normalized: Fields) => void;
}

/** Run one compiled step against a raw record: the first present candidate, converted and coerced. */
export function applyStep(step: CompiledStep, raw: Fields): unknown {
  let value: unknown;
  const getters = step.getters;
  for (let i = 0; i < getters.length; i++) {
    value = getters[i](raw);
    if (value !== undefined && value !== null && value !== '') break;
    value = undefined;
  }
  if (value !== undefined) {
    const converters = step.converters;
    for (let i = 0; i < converters.length; i++) value = converters[i](value);
  }
  if (step.valueMap !== undefined) {
    const mapped = value === undefined ? undefined : step.valueMap.get(String(value));
    value = mapped === undefined ? step.fallback : mapped;
  } else if (value === undefined) {
    value = step.fallback;
  }
  return value === undefined || value === null ? undefined : step.coerce(value);
}
