import { LEVELS, type Level } from '../alert.ts';

/**
 * Parses Sigma correlation documents (sigma-correlation-rules-specification.md, v2.1.0) into plain
 * definitions. Parsing never throws: a document that is not a usable correlation yields a problem
 * naming the file, the rule and what is wrong, and the caller skips it.
 */
export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const CONDITION_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface CorrelationCondition {
  /** Criteria linked by AND (spec "Condition": a range is `gt: 100, lte: 200`). */
  criteria: Array<{ op: ConditionOperator; value: number }>;
  /** value_count / value_sum / value_avg / value_percentile: the field(s) aggregated. */
  field: string[];
}

export interface CorrelationDef {
  id: string;
  name?: string;
  title: string;
  level: Level;
  /**
   * The document states its own level. A correlation that does is a detection in its own right and
   * alerts even when a parent correlation references it (spec example 15's intermediate has none).
   */
  levelDeclared: boolean;
  tags: string[];
  description?: string;
  type: CorrelationType;
  /** Referenced rules or correlations, by id or name, in the order given (temporal_ordered). */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  /** Absent for temporal / temporal_ordered without one: then every referenced rule must match. */
  condition?: CorrelationCondition;
  /** alias → (rule name or id → field name). */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
  file: string;
}

export type ParseResult = { ok: true; def: CorrelationDef } | { ok: false; problem: string };

/** Types whose condition needs a `field` (spec "Correlation Types"). */
const FIELD_TYPES: ReadonlySet<CorrelationType> = new Set([
  'value_count',
  'value_sum',
  'value_avg',
  'value_percentile',
]);
/** Types where the condition is mandatory; temporal ones default to "all referenced rules". */
const CONDITION_REQUIRED: ReadonlySet<CorrelationType> = new Set([
  'event_count',
  'value_count',
  'value_sum',
  'value_avg',
  'value_percentile',
]);

const TIMESPAN_UNITS_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
// Spec "Time Selection": number + one lowercase letter. Built once.
const TIMESPAN_RE = /^(\d+)([smhd])$/;

/** `5m` → 300000; null when the text is not `number + s|m|h|d`. */
export function parseTimespan(text: unknown): number | null {
  if (typeof text === 'number' && Number.isFinite(text) && text > 0) return text * 1000;
  if (typeof text !== 'string') return null;
  const m = TIMESPAN_RE.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 ? n * TIMESPAN_UNITS_MS[m[2]] : null;
}

/** A document is a correlation when it carries a `correlation` map. */
export function isCorrelationDoc(doc: unknown): doc is Record<string, unknown> {
  return isRecord(doc) && isRecord(doc.correlation);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asStringList(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.map(String);
  return null;
}

function parseCondition(raw: unknown, type: CorrelationType, label: string): CorrelationCondition | string {
  if (!isRecord(raw)) return `${label}: correlation.condition must be a map like {gte: 10}`;
  const criteria: CorrelationCondition['criteria'] = [];
  let field: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'field') {
      const list = asStringList(value);
      if (!list || list.length === 0)
        return `${label}: correlation.condition.field must be a field name or a list`;
      field = list;
      continue;
    }
    if (!(CONDITION_OPERATORS as readonly string[]).includes(key)) {
      return `${label}: unknown condition operator '${key}' (expected one of ${CONDITION_OPERATORS.join(', ')})`;
    }
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) return `${label}: condition ${key} needs a number`;
    criteria.push({ op: key as ConditionOperator, value: n });
  }
  if (criteria.length === 0)
    return `${label}: correlation.condition has no operator (gt, gte, lt, lte, eq, neq)`;
  if (FIELD_TYPES.has(type) && field.length === 0) return `${label}: ${type} needs condition.field`;
  return { criteria, field };
}

function parseAliases(raw: unknown, label: string): CorrelationDef['aliases'] | string {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) return `${label}: correlation.aliases must be a map alias → {rule: field}`;
  const out: CorrelationDef['aliases'] = {};
  for (const [alias, perRule] of Object.entries(raw)) {
    if (!isRecord(perRule)) return `${label}: alias '${alias}' must map rule names to field names`;
    const map: Record<string, string> = {};
    for (const [rule, field] of Object.entries(perRule)) {
      if (typeof field !== 'string')
        return `${label}: alias '${alias}' for rule '${rule}' must be a field name`;
      map[rule] = field;
    }
    out[alias] = map;
  }
  return out;
}

function parseLevel(raw: unknown): Level {
  return typeof raw === 'string' && (LEVELS as readonly string[]).includes(raw) ? (raw as Level) : 'medium';
}

/**
 * One correlation document → a definition or a problem. Documents without an id get a stable
 * synthetic one from the file and the document index, so alert ids stay deterministic.
 */
export function parseCorrelation(doc: unknown, file: string, index = 0): ParseResult {
  if (!isCorrelationDoc(doc)) return { ok: false, problem: `${file}#${index}: not a correlation document` };
  const c = doc.correlation as Record<string, unknown>;
  const title = typeof doc.title === 'string' && doc.title.trim() !== '' ? doc.title : undefined;
  const name = typeof doc.name === 'string' ? doc.name : undefined;
  const rawId = typeof doc.id === 'string' && doc.id.trim() !== '' && doc.id !== '—' ? doc.id : undefined;
  const id = rawId ?? name ?? `${file}#${index}`;
  const label = `${file}: correlation '${title ?? name ?? id}'`;

  const type = c.type;
  if (typeof type !== 'string') return { ok: false, problem: `${label}: correlation.type is missing` };
  if (!(CORRELATION_TYPES as readonly string[]).includes(type)) {
    return { ok: false, problem: `${label}: unknown correlation type '${type}'` };
  }
  const ctype = type as CorrelationType;
  const rules = asStringList(c.rules);
  if (!rules || rules.length === 0) return { ok: false, problem: `${label}: correlation.rules is missing` };
  const groupBy = c['group-by'] === undefined ? [] : asStringList(c['group-by']);
  if (!groupBy) return { ok: false, problem: `${label}: correlation.group-by must be a list of fields` };
  const timespanMs = parseTimespan(c.timespan);
  if (timespanMs === null) {
    return {
      ok: false,
      problem: `${label}: correlation.timespan '${String(c.timespan)}' is not number+s|m|h|d`,
    };
  }
  let condition: CorrelationCondition | undefined;
  if (c.condition !== undefined) {
    const parsed = parseCondition(c.condition, ctype, label);
    if (typeof parsed === 'string') return { ok: false, problem: parsed };
    condition = parsed;
  } else if (CONDITION_REQUIRED.has(ctype)) {
    return { ok: false, problem: `${label}: ${ctype} needs correlation.condition` };
  }
  const aliases = parseAliases(c.aliases, label);
  if (typeof aliases === 'string') return { ok: false, problem: aliases };
  // `generate` is a correlation-section attribute in the spec text; some tools put it top level.
  const generate = c.generate === true || doc.generate === true;
  const tags = asStringList(doc.tags) ?? [];
  const def: CorrelationDef = {
    id,
    title: title ?? name ?? id,
    level: parseLevel(doc.level),
    levelDeclared: typeof doc.level === 'string',
    tags,
    type: ctype,
    rules,
    groupBy,
    timespanMs,
    aliases,
    generate,
    file,
  };
  if (name !== undefined) def.name = name;
  if (condition !== undefined) def.condition = condition;
  if (typeof doc.description === 'string') def.description = doc.description;
  return { ok: true, def };
}

/** Evaluates an AND of criteria against a number. */
export function conditionHolds(criteria: CorrelationCondition['criteria'], n: number): boolean {
  for (const { op, value } of criteria) {
    if (!compare(op, n, value)) return false;
  }
  return true;
}

function compare(op: ConditionOperator, n: number, v: number): boolean {
  switch (op) {
    case 'gt':
      return n > v;
    case 'gte':
      return n >= v;
    case 'lt':
      return n < v;
    case 'lte':
      return n <= v;
    case 'eq':
      return n === v;
    case 'neq':
      return n !== v;
  }
}

/**
 * True when the condition can only go from false to true as a window gains events: lower bounds
 * only (gt/gte). Such correlations fire as soon as the condition holds; any other condition (an
 * upper bound, eq, neq) is only decidable when the window closes.
 */
export function isMonotone(criteria: CorrelationCondition['criteria']): boolean {
  return criteria.every((c) => c.op === 'gt' || c.op === 'gte');
}
