/**
 * Sigma conditions (sigma-rules-specification "Condition"): a tokenizer and a recursive-descent
 * parser with the spec's precedence, least to most binding: or, and, not, `x of`, parentheses.
 * `1 of x*` / `any of x*` / `all of x*` / `N of them` expand over search identifiers; `them`
 * excludes identifiers starting with `_`. The legacy aggregation syntax (`| count() by x > n`,
 * `near`) is recognised and reported as unsupported: those rules are correlations now.
 */
import type { Predicate } from './modifiers.ts';

export type ConditionNode =
  | { op: 'and' | 'or'; args: ConditionNode[] }
  | { op: 'not'; arg: ConditionNode }
  | { op: 'id'; name: string }
  | { op: 'of'; quantifier: 'all' | number; pattern: string };

export interface ConditionError {
  feature: string;
  message: string;
  severity: 'error' | 'unsupported';
}

const TOKEN = /\s*(\(|\)|[^\s()]+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null = TOKEN.exec(text);
  while (m) {
    tokens.push(m[1]);
    m = TOKEN.exec(text);
  }
  return tokens;
}

/** Parses one condition string; returns the tree or what is wrong with it. */
export function parseCondition(text: string): ConditionNode | ConditionError {
  if (text.includes('|')) {
    return {
      severity: 'unsupported',
      feature: 'aggregation (legacy count/near)',
      message: `condition '${text}' uses the legacy aggregation syntax; rewrite it as a correlation rule`,
    };
  }
  const tokens = tokenize(text);
  if (tokens.some((t) => t.toLowerCase() === 'near')) {
    return {
      severity: 'unsupported',
      feature: 'aggregation (legacy count/near)',
      message: `'near' in '${text}'`,
    };
  }
  let pos = 0;
  const peek = () => tokens[pos]?.toLowerCase();
  const fail = (message: string): ConditionError => ({
    severity: 'error',
    feature: 'condition syntax',
    message,
  });

  function parseOr(): ConditionNode | ConditionError {
    const args: ConditionNode[] = [];
    do {
      const a = parseAnd();
      if ('feature' in a) return a;
      args.push(a);
    } while (peek() === 'or' && ++pos);
    return args.length === 1 ? args[0] : { op: 'or', args };
  }
  function parseAnd(): ConditionNode | ConditionError {
    const args: ConditionNode[] = [];
    do {
      const a = parseNot();
      if ('feature' in a) return a;
      args.push(a);
    } while (peek() === 'and' && ++pos);
    return args.length === 1 ? args[0] : { op: 'and', args };
  }
  function parseNot(): ConditionNode | ConditionError {
    if (peek() === 'not') {
      pos++;
      const arg = parseNot();
      return 'feature' in arg ? arg : { op: 'not', arg };
    }
    return parsePrimary();
  }
  function parsePrimary(): ConditionNode | ConditionError {
    const t = tokens[pos];
    if (t === undefined) return fail(`condition '${text}' ends early`);
    if (t === '(') {
      pos++;
      const inner = parseOr();
      if ('feature' in inner) return inner;
      if (tokens[pos] !== ')') return fail(`condition '${text}': missing ')'`);
      pos++;
      return inner;
    }
    if (t === ')') return fail(`condition '${text}': unexpected ')'`);
    const lower = t.toLowerCase();
    if (lower === 'near') {
      return {
        severity: 'unsupported',
        feature: 'aggregation (legacy count/near)',
        message: `'near' in '${text}'`,
      };
    }
    if (tokens[pos + 1]?.toLowerCase() === 'of') {
      const quantifier = lower === 'all' ? 'all' : lower === 'any' ? 1 : Number(lower);
      if (quantifier !== 'all' && !(Number.isInteger(quantifier) && quantifier > 0)) {
        return fail(`condition '${text}': '${t} of' needs 1, any, all or a count`);
      }
      const pattern = tokens[pos + 2];
      if (pattern === undefined || pattern === '(' || pattern === ')')
        return fail(`condition '${text}': 'of' needs a pattern`);
      pos += 3;
      return { op: 'of', quantifier, pattern };
    }
    if (['and', 'or', 'not', 'of'].includes(lower)) return fail(`condition '${text}': unexpected '${t}'`);
    pos++;
    return { op: 'id', name: t };
  }

  const tree = parseOr();
  if ('feature' in tree) return tree;
  if (pos < tokens.length) return fail(`condition '${text}': unexpected '${tokens[pos]}'`);
  return tree;
}

function patternRegex(pattern: string): RegExp {
  const src = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${src}$`);
}

/** The identifiers an `of` expression covers. */
export function expandPattern(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((id) => !id.startsWith('_'));
  const re = patternRegex(pattern);
  return identifiers.filter((id) => re.test(id));
}

/** Checks every identifier and pattern resolves; returns the first problem. */
export function checkCondition(
  node: ConditionNode,
  identifiers: readonly string[],
): ConditionError | undefined {
  switch (node.op) {
    case 'and':
    case 'or':
      for (const a of node.args) {
        const e = checkCondition(a, identifiers);
        if (e) return e;
      }
      return undefined;
    case 'not':
      return checkCondition(node.arg, identifiers);
    case 'id':
      return identifiers.includes(node.name)
        ? undefined
        : {
            severity: 'error',
            feature: 'unknown identifier',
            message: `condition names '${node.name}', which the detection does not define`,
          };
    case 'of':
      // A pattern that names no identifier is a warning (emptyPatterns), not an error.
      return undefined;
  }
}

/**
 * `x of pattern` expressions whose pattern names no search identifier, as warnings. They keep the
 * value rsigma evaluates them to (and pySigma's empty AND/OR): `all of` an empty set is true,
 * `1 of` / `any of` / `N of` it is false.
 */
export function emptyPatterns(node: ConditionNode, identifiers: readonly string[]): string[] {
  switch (node.op) {
    case 'and':
    case 'or':
      return node.args.flatMap((a) => emptyPatterns(a, identifiers));
    case 'not':
      return emptyPatterns(node.arg, identifiers);
    case 'id':
      return [];
    case 'of': {
      if (expandPattern(node.pattern, identifiers).length > 0) return [];
      const q = node.quantifier === 'all' ? 'all' : String(node.quantifier);
      const value = node.quantifier === 'all' ? 'true' : 'false';
      return [`'${q} of ${node.pattern}' names no search identifier; it is always ${value}`];
    }
  }
}

/** True when a `not` appears anywhere in the condition. */
export function hasNot(node: ConditionNode): boolean {
  switch (node.op) {
    case 'and':
    case 'or':
      return node.args.some(hasNot);
    case 'not':
      return true;
    default:
      return false;
  }
}

/** Builds the predicate of a checked condition over bound search identifiers. */
export function compileCondition(node: ConditionNode, ids: ReadonlyMap<string, Predicate>): Predicate {
  switch (node.op) {
    case 'and':
      return allOf(node.args.map((a) => compileCondition(a, ids)));
    case 'or':
      return anyOf(node.args.map((a) => compileCondition(a, ids)));
    case 'not': {
      const p = compileCondition(node.arg, ids);
      return (env) => !p(env);
    }
    case 'id':
      return ids.get(node.name)!;
    case 'of': {
      const preds = expandPattern(node.pattern, [...ids.keys()]).map((n) => ids.get(n)!);
      if (node.quantifier === 'all') return allOf(preds);
      if (node.quantifier === 1) return anyOf(preds);
      return atLeast(preds, node.quantifier);
    }
  }
}

function allOf(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0];
  if (preds.length === 2) {
    const [a, b] = preds;
    return (env) => a(env) && b(env);
  }
  return (env) => {
    for (const p of preds) if (!p(env)) return false;
    return true;
  };
}

function anyOf(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0];
  if (preds.length === 2) {
    const [a, b] = preds;
    return (env) => a(env) || b(env);
  }
  return (env) => {
    for (const p of preds) if (p(env)) return true;
    return false;
  };
}

function atLeast(preds: Predicate[], n: number): Predicate {
  return (env) => {
    let hits = 0;
    for (const p of preds) if (p(env) && ++hits >= n) return true;
    return false;
  };
}
