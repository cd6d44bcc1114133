/**
 * Loads Sigma YAML (files or folders, recursively; single and multi-document) and compiles every
 * detection rule once. Documents are classified as detection rules, correlation rules (handed on
 * uncompiled for the correlation engine), filters (sigma-filters-specification, applied as
 * pySigma's `sigma/filters.py` and rsigma do: `(rule) and (filter condition)` for the rules they
 * name, so a filter's condition says which events to keep, `not selection` in practice) and the
 * legacy `action: global|repeat|reset` collections (merged as Sigma 1.0 specified). Anything the
 * engine cannot run becomes a RuleProblem naming the file, the rule and the feature; the rule is
 * skipped, nothing throws. What runs but probably not as its author meant (a filter condition
 * without `not`, an `of` pattern that names no identifier, a logsource no configured event kind
 * covers) is a warning: the rule runs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Envelope } from '../../core/envelope.ts';
import { UsageError } from '../../core/errors.ts';
import { stableId } from '../../core/ids.ts';
import { LEVELS, type Level } from '../alert.ts';
import { bindDetection, compileDetection, type DetectionPlan } from './compile.ts';
import { hasNot } from './condition.ts';
import {
  createLogsourceIndex,
  type LogsourceEntry,
  type LogsourceIndex,
  type LogsourceKey,
  type LogsourceTable,
  loadLogsourceTable,
  variantAccepts,
  withExtraLogsources,
} from './logsources.ts';
import { isIssue, type ModifierOptions, type Predicate } from './modifiers.ts';

export interface RuleProblem {
  file: string;
  rule_id?: string;
  title?: string;
  /** error / unsupported: the rule is skipped. warning: the rule runs (RuleSet.warnings). */
  severity: 'error' | 'unsupported' | 'warning';
  feature: string;
  message: string;
}

/** Where a compiled rule runs: one predicate per event kind its logsource covers. */
export interface RuleTarget {
  source: string;
  /** Undefined: every log type of the source. */
  logType: string | undefined;
  predicate: Predicate;
}

export interface CompiledRule {
  id: string;
  name?: string;
  title: string;
  level: Level;
  status?: string;
  tags: string[];
  description?: string;
  logsource: Record<string, string>;
  file: string;
  fields?: string[];
  falsepositives?: string[];
  /** Sigma field names the detection reads. */
  detectionFields: string[];
  targets: RuleTarget[];
  /** True when the event is of a kind the rule's logsource covers and the detection matches. */
  match(event: Envelope): boolean;
}

export interface RuleSet {
  rules: CompiledRule[];
  correlations: Array<{ doc: Record<string, unknown>; file: string }>;
  problems: RuleProblem[];
  /** Rules that run, but probably not as meant (severity 'warning'). */
  warnings: RuleProblem[];
}

export interface LoadOptions {
  placeholders?: Record<string, string[]>;
  /** detect.regex_max_length; default 4096. */
  regexMaxLength?: number;
  /** A logsource table other than the bundled logsources.yaml. */
  logsources?: LogsourceTable;
  /** Entries added to the table (detect.logsources, --logsource): see withExtraLogsources. */
  extraLogsources?: readonly LogsourceEntry[];
}

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const YAML_FILE = /\.ya?ml$/i;

/**
 * Every .yml/.yaml file under the given paths, sorted so ids and counts are stable. Paths that do
 * not exist are collected in `missing` (when given) instead of throwing.
 */
export function listRuleFiles(paths: readonly string[], missing?: string[]): string[] {
  const out: string[] = [];
  // A file named twice (`--rules rules --rules rules/x.yml`) is loaded once, not as a second rule.
  const seen = new Set<string>();
  const visit = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) {
      if (!missing) throw new UsageError(`${p}: no such file or folder`);
      missing.push(p);
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) visit(join(p, name));
    } else if (YAML_FILE.test(p) && !seen.has(resolve(p))) {
      seen.add(resolve(p));
      out.push(p);
    }
  };
  for (const p of paths) visit(p);
  return out;
}

function deepMerge(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k] as Doc, v) : v;
  return out;
}

/** Resolves Sigma 1.0 collections: `action: global` is merged into the documents after it. */
function resolveActions(docs: Doc[]): Doc[] {
  if (!docs.some((d) => 'action' in d)) return docs;
  let global: Doc = {};
  let previous: Doc | undefined;
  const out: Doc[] = [];
  for (const d of docs) {
    const { action, ...rest } = d;
    if (action === 'global') global = deepMerge(global, rest);
    else if (action === 'reset') global = {};
    else if (action === 'repeat') {
      previous = deepMerge(previous ?? global, rest);
      out.push(previous);
    } else {
      previous = deepMerge(global, rest);
      out.push(previous);
    }
  }
  return out;
}

interface PendingRule {
  doc: Doc;
  file: string;
  id: string;
  title: string;
  plan: DetectionPlan;
}

interface PendingFilter {
  file: string;
  id: string;
  title: string;
  /** Rule ids or names; 'any' = every rule whose logsource the filter's contains. */
  rules: string[] | 'any';
  logsource: Doc;
  plan: DetectionPlan;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** The YAML documents of one file (empty documents dropped); undefined when the file is not YAML. */
function readDocuments(file: string, problems: RuleProblem[]): Doc[] | undefined {
  const streams = parseAllDocuments(readFileSync(file, 'utf8'));
  const docs: Doc[] = [];
  for (const d of Array.isArray(streams) ? streams : []) {
    if (d.errors.length > 0) {
      problems.push({
        file,
        severity: 'error',
        feature: 'yaml',
        message: d.errors[0].message.split('\n')[0],
      });
      return undefined;
    }
    const js = d.toJS({ maxAliasCount: 100 });
    if (js === null || js === undefined) continue;
    if (isMap(js)) docs.push(js);
    else
      problems.push({
        file,
        severity: 'error',
        feature: 'document',
        message: 'a YAML document is not a map',
      });
  }
  return docs;
}

interface Collected {
  problems: RuleProblem[];
  warnings: RuleProblem[];
  correlations: RuleSet['correlations'];
  pending: PendingRule[];
  filters: PendingFilter[];
}

type Where = Pick<RuleProblem, 'file' | 'rule_id' | 'title'>;

function problemAt(where: Where, issue: Pick<RuleProblem, 'severity' | 'feature' | 'message'>): RuleProblem {
  return { ...where, severity: issue.severity, feature: issue.feature, message: issue.message };
}

/**
 * `filter.rules` as pySigma reads it: `any` or an empty list = every rule of the logsource; one
 * reference or a list of rule ids / names. Undefined when it is none of these.
 */
function filterTargets(v: unknown): string[] | 'any' | undefined {
  if (typeof v === 'string') return v.toLowerCase() === 'any' ? 'any' : [v];
  if (!Array.isArray(v)) return undefined;
  if (v.length === 0) return 'any';
  return v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** A filter document (sigma-filters-specification): compiled like a detection, applied later. */
function collectFilter(doc: Doc, where: Where, id: string, opts: ModifierOptions, out: Collected): void {
  const f = doc.filter;
  const rules = isMap(f) ? filterTargets(f.rules) : undefined;
  const fail = (message: string) =>
    out.problems.push(problemAt(where, { severity: 'error', feature: 'filter', message }));
  if (!isMap(f) || rules === undefined) {
    fail("filter.rules must be 'any', a rule id or name, or a list of them");
    return;
  }
  if (typeof f.condition !== 'string') {
    // pySigma: "Sigma filter condition must be a string" (one condition, not a list).
    fail('filter.condition must be one condition string');
    return;
  }
  const { rules: _rules, ...detection } = f;
  const plan = compileDetection(detection, opts);
  if (isIssue(plan)) {
    out.problems.push(problemAt(where, plan));
    return;
  }
  for (const message of plan.warnings)
    out.warnings.push(problemAt(where, { severity: 'warning', feature: 'empty of-pattern', message }));
  if (!hasNot(plan.condition)) {
    out.warnings.push(
      problemAt(where, {
        severity: 'warning',
        feature: 'filter condition without not',
        message:
          `filter condition '${f.condition}' has no 'not': as pySigma and rsigma apply filters ` +
          '(rule and filter condition), the rules keep only the events it matches; ' +
          `write 'not ${f.condition}' to drop them`,
      }),
    );
  }
  const logsource = isMap(doc.logsource) ? doc.logsource : {};
  out.filters.push({ file: where.file, id, title: where.title ?? id, rules, logsource, plan });
}

/** Sorts one document into rules, correlations, filters or problems. */
function collectDocument(doc: Doc, where: Where, id: string, opts: ModifierOptions, out: Collected): void {
  if ('correlation' in doc) {
    out.correlations.push({ doc, file: where.file });
    return;
  }
  if ('filter' in doc && !('detection' in doc)) {
    collectFilter(doc, where, id, opts, out);
    return;
  }
  if (!('detection' in doc)) {
    out.problems.push(
      problemAt(where, {
        severity: 'error',
        feature: 'document',
        message: 'neither detection, correlation nor filter',
      }),
    );
    return;
  }
  try {
    const plan = compileDetection(doc.detection, opts);
    if (isIssue(plan)) {
      out.problems.push(problemAt(where, plan));
      return;
    }
    for (const message of plan.warnings)
      out.warnings.push(problemAt(where, { severity: 'warning', feature: 'empty of-pattern', message }));
    // Title is mandatory in the spec, but the correlation spec's own examples omit it on the
    // rules they chain by name: fall back to the name (or id) rather than drop the rule.
    out.pending.push({ doc, file: where.file, id, title: where.title ?? id, plan });
  } catch (err) {
    // Defensive: a bug here must cost one rule, not the whole load.
    out.problems.push(
      problemAt(where, { severity: 'error', feature: 'internal', message: String((err as Error).message) }),
    );
  }
}

/** Loads rules from files and folders. Never throws for a bad rule; see RuleSet.problems. */
export function loadRules(paths: readonly string[], options: LoadOptions = {}): RuleSet {
  const opts: ModifierOptions = {
    placeholders: options.placeholders ?? {},
    regexMaxLength: options.regexMaxLength ?? 4096,
  };
  const table = withExtraLogsources(
    options.logsources ?? loadLogsourceTable(),
    options.extraLogsources ?? [],
  );
  const index = createLogsourceIndex(table);
  const out: Collected = { problems: [], warnings: [], correlations: [], pending: [], filters: [] };
  const missing: string[] = [];
  const files = listRuleFiles(paths, missing);
  for (const p of missing)
    out.problems.push({ file: p, severity: 'error', feature: 'path', message: 'no such file or folder' });
  for (const file of files) {
    const docs = readDocuments(file, out.problems);
    if (!docs) continue;
    const seen = new Set<string>();
    resolveActions(docs).forEach((doc, i) => {
      const title = typeof doc.title === 'string' ? doc.title : undefined;
      let id =
        typeof doc.id === 'string' ? doc.id : typeof doc.name === 'string' ? doc.name : stableId(file, i);
      if (seen.has(id)) id = `${id}#${i}`;
      seen.add(id);
      collectDocument(doc, { file, rule_id: id, ...(title ? { title } : {}) }, id, opts, out);
    });
  }
  const rules = out.pending.map((p) => finishRule(p, out.filters, index));
  for (const r of rules) {
    if (r.targets.length > 0) continue;
    out.warnings.push({
      file: r.file,
      rule_id: r.id,
      title: r.title,
      severity: 'warning',
      feature: NO_EVENTS,
      message: `no configured logsource covers ${logsourceLabel(r.logsource)}: the rule never runs (add it under detect.logsources or with --logsource)`,
    });
  }
  return { rules, correlations: out.correlations, problems: out.problems, warnings: out.warnings };
}

function logsourceOf(doc: Doc): Record<string, string> {
  const out: Record<string, string> = {};
  if (isMap(doc.logsource))
    for (const [k, v] of Object.entries(doc.logsource)) if (typeof v === 'string') out[k] = v;
  return out;
}

const NO_EVENTS = 'logsource without events';

/** Rule titles named per logsource in a summarised warning. */
const TITLES_SHOWN = 5;

/**
 * Warnings for a log or a terminal: each as it is, except rules without events, which become one
 * line per logsource naming the count and the first few rules (a SigmaHQ checkout has thousands of
 * Windows rules; `rules check --verbose` and `--json` list every one).
 */
export function summarizeWarnings(warnings: readonly RuleProblem[]): RuleProblem[] {
  const out: RuleProblem[] = [];
  const byLogsource = new Map<string, RuleProblem[]>();
  for (const w of warnings) {
    if (w.feature !== NO_EVENTS) {
      out.push(w);
      continue;
    }
    const label = w.message.slice(0, w.message.indexOf(':'));
    byLogsource.set(label, [...(byLogsource.get(label) ?? []), w]);
  }
  for (const [label, ws] of byLogsource) {
    if (ws.length === 1) {
      out.push(ws[0]);
      continue;
    }
    const titles = ws.slice(0, TITLES_SHOWN).map((w) => w.title ?? w.rule_id);
    const more = ws.length > TITLES_SHOWN ? `, … ${ws.length - TITLES_SHOWN} more` : '';
    out.push({
      file: ws[0].file,
      severity: 'warning',
      feature: NO_EVENTS,
      message: `${label}: ${ws.length} rules never run (${titles.join(', ')}${more}); add the logsource under detect.logsources or with --logsource`,
    });
  }
  return out;
}

/** `product=linux service=sshd`, for messages and `rules check`. */
export function logsourceLabel(ls: Record<string, string>): string {
  const parts = ['product', 'category', 'service'].filter((k) => ls[k]).map((k) => `${k}=${ls[k]}`);
  return parts.length > 0 ? parts.join(' ') : '(no logsource)';
}

/**
 * A filter applies when it names the rule (or says `any`) and its logsource contains the rule's
 * (pySigma's `SigmaLogSource.__contains__`, rsigma's `filter_logsource_contains`): every key the
 * filter sets is set alike on the rule, case-insensitively.
 */
function filtersFor(
  rule: PendingRule,
  logsource: Record<string, string>,
  filters: PendingFilter[],
): PendingFilter[] {
  const name = typeof rule.doc.name === 'string' ? rule.doc.name : undefined;
  return filters.filter(
    (f) =>
      (f.rules === 'any' || f.rules.includes(rule.id) || (name !== undefined && f.rules.includes(name))) &&
      Object.entries(f.logsource).every(
        ([k, v]) => typeof v !== 'string' || logsource[k]?.toLowerCase() === v.toLowerCase(),
      ),
  );
}

function finishRule(p: PendingRule, filters: PendingFilter[], index: LogsourceIndex): CompiledRule {
  const { doc } = p;
  const logsource = logsourceOf(doc);
  const applied = filtersFor(p, logsource, filters);
  const targets: RuleTarget[] = index.variants(logsource as LogsourceKey).map((v) => {
    const base = bindDetection(p.plan, v.scope);
    // (rule) and (filter condition) for every filter, as pySigma rewrites the rule's condition.
    const keeps = applied.map((f) => bindDetection(f.plan, v.scope));
    const predicate: Predicate =
      keeps.length === 0
        ? base
        : (env) => {
            if (!base(env)) return false;
            for (const keep of keeps) if (!keep(env)) return false;
            return true;
          };
    return { source: v.source, logType: v.logType, predicate };
  });
  const level = (LEVELS as readonly string[]).includes(String(doc.level))
    ? (doc.level as Level)
    : 'informational';
  const rule: CompiledRule = {
    id: p.id,
    title: p.title,
    level,
    tags: strings(doc.tags) ?? [],
    logsource,
    file: p.file,
    detectionFields: p.plan.fields,
    targets,
    match(event) {
      for (const t of targets) {
        if (variantAccepts(t, event)) return t.predicate(event);
      }
      return false;
    },
  };
  if (typeof doc.name === 'string') rule.name = doc.name;
  if (typeof doc.status === 'string') rule.status = doc.status;
  if (typeof doc.description === 'string') rule.description = doc.description;
  const fields = strings(doc.fields);
  if (fields) rule.fields = fields;
  const fps = strings(doc.falsepositives);
  if (fps) rule.falsepositives = fps;
  return rule;
}
