/**
 * Compiles a Sigma `detection` section once into a plan: search identifiers (maps = AND of
 * items, lists = OR, lists of strings = keyword search) and a parsed condition. `bind` turns the
 * plan into one predicate for one field scope; the expensive parts (regexes, value sets, CIDR
 * lists) live in the items and are shared by every binding.
 */
import {
  type ConditionError,
  type ConditionNode,
  checkCondition,
  compileCondition,
  emptyPatterns,
  parseCondition,
} from './condition.ts';
import {
  compileItem,
  type DetectionItem,
  type FieldScope,
  type Issue,
  isIssue,
  type ModifierOptions,
  type Predicate,
} from './modifiers.ts';

export interface DetectionPlan {
  identifiers: Map<string, SearchPlan>;
  condition: ConditionNode;
  /** Every Sigma field name the detection reads (for docs and `rules check`). */
  fields: string[];
  /** What compiles but is probably not meant (`1 of x*` naming no identifier). */
  warnings: string[];
}

/** A search identifier: OR over alternatives, each an AND over items. */
type SearchPlan = DetectionItem[][];

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function compileMap(map: Record<string, unknown>, opts: ModifierOptions): DetectionItem[] | Issue {
  const items: DetectionItem[] = [];
  for (const [key, value] of Object.entries(map)) {
    const item = compileItem(key, value, opts);
    if (isIssue(item)) return item;
    items.push(item);
  }
  if (items.length === 0)
    return { severity: 'error', feature: 'empty selection', message: 'a selection map is empty' };
  return items;
}

function compileSearch(name: string, value: unknown, opts: ModifierOptions): SearchPlan | Issue {
  if (isMap(value)) {
    const items = compileMap(value, opts);
    return isIssue(items) ? items : [items];
  }
  if (Array.isArray(value)) {
    // A list: maps are OR-ed alternatives; plain values together form one keyword search.
    const plan: SearchPlan = [];
    const keywords = value.filter((v) => !isMap(v));
    for (const v of value.filter(isMap)) {
      const items = compileMap(v, opts);
      if (isIssue(items)) return items;
      plan.push(items);
    }
    if (keywords.length > 0) {
      const item = compileItem('', keywords, opts);
      if (isIssue(item)) return item;
      plan.push([item]);
    }
    return plan;
  }
  if (typeof value === 'string' || typeof value === 'number') {
    const item = compileItem('', value, opts);
    return isIssue(item) ? item : [[item]];
  }
  return {
    severity: 'error',
    feature: 'search identifier',
    message: `'${name}' is neither a map nor a list`,
  };
}

/** Compiles a detection section; the condition may be one string or a list (OR-ed). */
export function compileDetection(
  detection: unknown,
  opts: ModifierOptions,
): DetectionPlan | Issue | ConditionError {
  if (!isMap(detection))
    return { severity: 'error', feature: 'detection', message: 'detection is missing or not a map' };
  const identifiers = new Map<string, SearchPlan>();
  const fields = new Set<string>();
  for (const [name, value] of Object.entries(detection)) {
    if (name === 'condition') continue;
    if (name === 'timeframe') {
      return {
        severity: 'unsupported',
        feature: 'timeframe (legacy aggregation)',
        message:
          'detection.timeframe belongs to the legacy aggregation syntax; rewrite as a correlation rule',
      };
    }
    const plan = compileSearch(name, value, opts);
    if (isIssue(plan)) return { ...plan, message: `${name}: ${plan.message}` };
    identifiers.set(name, plan);
    for (const alt of plan) for (const item of alt) for (const f of item.fields) fields.add(f);
  }
  const raw = detection.condition;
  const texts = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || texts.some((t) => typeof t !== 'string')) {
    return {
      severity: 'error',
      feature: 'condition',
      message: 'detection.condition is missing or not a string',
    };
  }
  const trees: ConditionNode[] = [];
  const warnings: string[] = [];
  for (const text of texts as string[]) {
    const tree = parseCondition(text);
    if ('feature' in tree) return tree;
    const err = checkCondition(tree, [...identifiers.keys()]);
    if (err) return err;
    warnings.push(...emptyPatterns(tree, [...identifiers.keys()]));
    trees.push(tree);
  }
  const condition: ConditionNode = trees.length === 1 ? trees[0] : { op: 'or', args: trees };
  return { identifiers, condition, fields: [...fields], warnings };
}

function bindSearch(plan: SearchPlan, scope: FieldScope): Predicate {
  const alts = plan.map((items) => {
    const preds = items.map((i) => i.bind(scope));
    if (preds.length === 1) return preds[0];
    return (env: Parameters<Predicate>[0]) => {
      for (const p of preds) if (!p(env)) return false;
      return true;
    };
  });
  if (alts.length === 1) return alts[0];
  return (env) => {
    for (const p of alts) if (p(env)) return true;
    return false;
  };
}

/** One predicate for one field scope. */
export function bindDetection(plan: DetectionPlan, scope: FieldScope): Predicate {
  const ids = new Map<string, Predicate>();
  for (const [name, search] of plan.identifiers) ids.set(name, bindSearch(search, scope));
  return compileCondition(plan.condition, ids);
}
