import type { Envelope } from '../../core/envelope.ts';
import { type CorrelationMatch, type Correlator, createCorrelator } from './correlator.ts';
import { CORRELATION_TYPES, type CorrelationDef, parseCorrelation } from './parse.ts';

/**
 * Compiles parsed correlations against the loaded single-event rules: resolves `rules` references
 * (by id or name, spec "Related rules"), applies `aliases` to the group-by fields of each
 * referenced rule, orders chains (correlations of correlations) so children run before parents,
 * and decides which rules raise alerts on their own (`generate`).
 *
 * Everything per event is prepared here once: field getters are built at compile time.
 */
export interface RuleRef {
  id: string;
  name?: string;
}

/** Reads one field of an event. Group-by fields name canonical (normalized/enriched) fields or raw ones. */
export type FieldGetter = (env: Envelope) => unknown;

export interface Consumer {
  correlator: Correlator;
  /** Canonical id of the referenced rule this consumer listens to. */
  refId: string;
  groupFields: string[];
  groupGetters: FieldGetter[];
  valueFields: string[];
  valueGetters: FieldGetter[];
  /** value_sum / value_avg aggregate numbers; value_count distinct strings. */
  numericValue: boolean;
}

export interface CorrelationPlan {
  /** Children before parents. */
  correlators: Correlator[];
  /** Referenced id (base rule or correlation) → consumers fed by its matches or hits. */
  consumers: Map<string, Consumer[]>;
  /**
   * False for rules only referenced by correlations without `generate: true`, unless the rule is
   * a correlation that declares its own level.
   */
  alerts(id: string): boolean;
  problems: string[];
}

export interface PlanOptions {
  maxGroupsPerRule: number;
  maxEventIds: number;
}

/** Correlation types the engine evaluates; value_percentile's semantics are left open by spec v2.1. */
const SUPPORTED: ReadonlySet<string> = new Set(CORRELATION_TYPES.filter((t) => t !== 'value_percentile'));

/** A dotted name that is not a top-level key walks nested objects of the raw layer (`id.orig_h` is a key). */
export function fieldGetter(name: string): FieldGetter {
  const path = name.includes('.') ? name.split('.') : null;
  return (env) => {
    let v = env.normalized[name];
    if (v !== undefined) return v;
    v = env.enriched[name];
    if (v !== undefined) return v;
    v = env.raw[name];
    if (v !== undefined || !path) return v;
    let cur: unknown = env.raw;
    for (const part of path) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  };
}

/** Group and distinct values as strings; absent or empty values mean "no group" (the match is skipped). */
export function keyValue(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(String).join(',');
  return String(v);
}

export function compilePlan(
  rules: readonly RuleRef[],
  correlationDocs: ReadonlyArray<{ doc: unknown; file: string }>,
  options: PlanOptions,
): CorrelationPlan {
  const problems: string[] = [];
  const defs: CorrelationDef[] = [];
  correlationDocs.forEach(({ doc, file }, i) => {
    const parsed = parseCorrelation(doc, file, i);
    if (!parsed.ok) problems.push(parsed.problem);
    else if (!SUPPORTED.has(parsed.def.type)) {
      problems.push(
        `${file}: correlation '${parsed.def.title}': unsupported feature: ${parsed.def.type} (spec v2.1 leaves its semantics open); rule skipped`,
      );
    } else defs.push(parsed.def);
  });

  // Names and ids of everything a correlation may reference.
  const byRef = new Map<string, { id: string; name?: string; def?: CorrelationDef }>();
  for (const r of rules) {
    byRef.set(r.id, r);
    if (r.name) byRef.set(r.name, r);
  }
  for (const def of defs) {
    const entry = def.name ? { id: def.id, name: def.name, def } : { id: def.id, def };
    byRef.set(def.id, entry);
    if (def.name) byRef.set(def.name, entry);
  }

  // Resolve references; a correlation with an unknown reference is skipped, and so are its parents.
  const resolved = new Map<string, { def: CorrelationDef; refs: Array<{ id: string; name?: string }> }>();
  for (const def of defs) {
    const refs: Array<{ id: string; name?: string }> = [];
    const missing = def.rules.filter((ref) => {
      const target = byRef.get(ref);
      if (target) refs.push(target.name ? { id: target.id, name: target.name } : { id: target.id });
      return !target;
    });
    if (missing.length > 0) {
      problems.push(
        `${def.file}: correlation '${def.title}' references unknown rule(s) ${missing.map((m) => `'${m}'`).join(', ')}; rule skipped`,
      );
    } else resolved.set(def.id, { def, refs });
  }

  // Topological order (children first); cycles and chains onto skipped correlations are problems.
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done' | 'bad'>();
  const visit = (id: string): boolean => {
    const s = state.get(id);
    if (s === 'done') return true;
    if (s === 'bad') return false;
    const node = resolved.get(id);
    if (!node) return !byRef.get(id)?.def; // a base rule is fine; a skipped correlation is not
    if (s === 'visiting') {
      problems.push(
        `${node.def.file}: correlation '${node.def.title}' is part of a reference cycle; rule skipped`,
      );
      state.set(id, 'bad');
      return false;
    }
    state.set(id, 'visiting');
    const ok = node.refs.every((r) => visit(r.id));
    if (!ok && state.get(id) !== 'bad') {
      problems.push(
        `${node.def.file}: correlation '${node.def.title}' depends on a skipped correlation; rule skipped`,
      );
    }
    state.set(id, ok ? 'done' : 'bad');
    if (ok) order.push(id);
    return ok;
  };
  for (const id of resolved.keys()) visit(id);

  const correlators: Correlator[] = [];
  const consumers = new Map<string, Consumer[]>();
  const referencedBy = new Map<string, CorrelationDef[]>();
  for (const id of order) {
    const { def, refs } = resolved.get(id) as {
      def: CorrelationDef;
      refs: Array<{ id: string; name?: string }>;
    };
    const correlator = createCorrelator(def, {
      refIds: refs.map((r) => r.id),
      maxGroups: options.maxGroupsPerRule,
      maxEventIds: options.maxEventIds,
    });
    correlators.push(correlator);
    const seen = new Set<string>();
    for (const ref of refs) {
      const list = referencedBy.get(ref.id) ?? [];
      list.push(def);
      referencedBy.set(ref.id, list);
      if (seen.has(ref.id)) continue; // one consumer per referenced rule; the correlator fans out positions
      seen.add(ref.id);
      const aliasFor = (field: string): string =>
        (ref.name !== undefined ? def.aliases[field]?.[ref.name] : undefined) ??
        def.aliases[field]?.[ref.id] ??
        field;
      const groupFields = def.groupBy.map(aliasFor);
      const valueFields = (def.condition?.field ?? []).map(aliasFor);
      const consumer: Consumer = {
        correlator,
        refId: ref.id,
        groupFields,
        groupGetters: groupFields.map(fieldGetter),
        valueFields,
        valueGetters: valueFields.map(fieldGetter),
        numericValue: def.type === 'value_sum' || def.type === 'value_avg',
      };
      const list2 = consumers.get(ref.id) ?? [];
      list2.push(consumer);
      consumers.set(ref.id, list2);
    }
  }

  return {
    correlators,
    consumers,
    alerts(id) {
      const parents = referencedBy.get(id);
      if (!parents) return true;
      return parents.some((p) => p.generate) || resolved.get(id)?.def.levelDeclared === true;
    },
    problems,
  };
}

/** The match an event contributes to one consumer, or null when a group-by or value field is absent. */
export function matchFromEvent(
  consumer: Consumer,
  env: Envelope,
  eventTime: number,
): CorrelationMatch | null {
  const group: string[] = new Array(consumer.groupGetters.length);
  for (let i = 0; i < group.length; i++) {
    const v = keyValue(consumer.groupGetters[i](env));
    if (v === undefined) return null;
    group[i] = v;
  }
  const match: CorrelationMatch = {
    correlation_id: consumer.correlator.def.id,
    rule_id: consumer.refId,
    group,
    event_time: eventTime,
    event_id: env.id,
  };
  if (consumer.valueGetters.length > 0) {
    const value = readValue(consumer, env, null, group);
    if (value === undefined) return null;
    match.value = value;
  }
  return match;
}

/**
 * The match a correlation hit contributes to a parent correlation. The hit's "event" is its group:
 * the parent's group-by fields (after aliases) are looked up among the child's group-by fields.
 */
export function matchFromHit(
  consumer: Consumer,
  child: CorrelationDef,
  group: readonly string[],
  eventTime: number,
  eventId: string,
): CorrelationMatch | null {
  const out: string[] = [];
  for (const f of consumer.groupFields) {
    const v = groupValue(child, group, f);
    if (v === undefined) return null;
    out.push(v);
  }
  const match: CorrelationMatch = {
    correlation_id: consumer.correlator.def.id,
    rule_id: consumer.refId,
    group: out,
    event_time: eventTime,
    event_id: eventId,
  };
  if (consumer.valueFields.length > 0) {
    const value = readValue(consumer, null, child, group);
    if (value === undefined) return null;
    match.value = value;
  }
  return match;
}

function groupValue(child: CorrelationDef, group: readonly string[], field: string): string | undefined {
  const i = child.groupBy.indexOf(field);
  return i < 0 ? undefined : group[i];
}

/** Value field i, read from the event (process side) or from a child correlation's group (chains). */
function rawValue(
  consumer: Consumer,
  i: number,
  env: Envelope | null,
  child: CorrelationDef | null,
  group: readonly string[],
): unknown {
  if (env) return consumer.valueGetters[i](env);
  return child ? groupValue(child, group, consumer.valueFields[i]) : undefined;
}

function readValue(
  consumer: Consumer,
  env: Envelope | null,
  child: CorrelationDef | null,
  group: readonly string[],
): string | number | undefined {
  if (consumer.numericValue) {
    const raw = rawValue(consumer, 0, env, child, group);
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw !== '' ? Number(raw) : Number.NaN;
    return Number.isFinite(n) ? n : undefined;
  }
  // Several value_count fields are linked by AND (spec): the distinct value is the tuple.
  let joined = '';
  for (let i = 0; i < consumer.valueFields.length; i++) {
    const v = keyValue(rawValue(consumer, i, env, child, group));
    if (v === undefined) return undefined;
    joined = i === 0 ? v : `${joined}\u0000${v}`;
  }
  return joined;
}
