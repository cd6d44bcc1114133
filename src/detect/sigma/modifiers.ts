/**
 * Sigma detection items and value modifiers (sigma-rules-specification "Detection", appendix
 * "Modifiers" v2.1). One detection item (`field|mod1|mod2: value(s)`) compiles once into a
 * field-independent plan; `bind` then turns it into a predicate over envelopes for one field
 * resolver (one logsource variant), so regexes, IP lists and value sets are built exactly once.
 */
import { BlockList, isIP } from 'node:net';
import type { Envelope } from '../../core/envelope.ts';
import { capRegexInput, findNestedQuantifier, translatePcre } from './regex-guard.ts';

// ---------------------------------------------------------------------------------------------
// Sigma strings: literal text plus wildcards (spec "String Wildcard", "Escape Character").

export const MANY = { wildcard: '*' } as const;
export const ONE = { wildcard: '?' } as const;
export type Wildcard = typeof MANY | typeof ONE;
/** A position that matches any one of several characters (produced by `windash`). */
export interface CharClass {
  anyOf: string;
}
export type Part = string | Wildcard | CharClass;

/** One value after transformations; `binary` marks byte strings (utf16 output) for base64. */
export interface SigmaValue {
  parts: Part[];
  binary: boolean;
}

/**
 * Parses a Sigma string: `*` and `?` are wildcards; `\*`, `\?` and `\\` escape; a backslash
 * before any other character is a plain backslash (so `C:\Windows` needs no escaping).
 */
export function parseSigmaString(s: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      const next = s[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else lit += c;
    } else if (c === '*' || c === '?') {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(c === '*' ? MANY : ONE);
    } else lit += c;
  }
  if (lit) parts.push(lit);
  return parts;
}

function isLiteral(parts: Part[]): boolean {
  return parts.every((p) => typeof p === 'string');
}

function literalText(parts: Part[]): string {
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Problems and options.

export interface Issue {
  severity: 'error' | 'unsupported';
  feature: string;
  message: string;
}

export function isIssue(x: unknown): x is Issue {
  return typeof x === 'object' && x !== null && 'severity' in x && 'feature' in x;
}

export interface ModifierOptions {
  /** Values for `expand` placeholders (%name% → list of Sigma strings). */
  placeholders: Record<string, string[]>;
  /** Longest text a regex runs on (detect.regex_max_length). */
  regexMaxLength: number;
}

// ---------------------------------------------------------------------------------------------
// Transformation modifiers (value → alternatives). Applied in the order written in the rule.

type Transform = (v: SigmaValue, opts: ModifierOptions) => SigmaValue[] | Issue;

function wrap(v: SigmaValue, before: boolean, after: boolean): SigmaValue[] {
  const parts = v.parts.slice();
  if (before && parts[0] !== MANY) parts.unshift(MANY);
  if (after && parts[parts.length - 1] !== MANY) parts.push(MANY);
  return [{ parts, binary: v.binary }];
}

function needsLiteral(v: SigmaValue, name: string): Issue | undefined {
  if (isLiteral(v.parts)) return undefined;
  return {
    severity: 'unsupported',
    feature: `modifier ${name}`,
    message: `${name} on a value with wildcards`,
  };
}

function bytesOf(v: SigmaValue): Buffer {
  return Buffer.from(literalText(v.parts), v.binary ? 'latin1' : 'utf8');
}

// base64offset: the three shifts of the value inside a longer base64 string (pySigma's algorithm:
// encode with 0–2 leading pad bytes, then cut the characters that depend on the neighbours).
const B64_START = [0, 2, 3];
const B64_END = [undefined, -3, -2];

function mapLiterals(v: SigmaValue, fn: (s: string) => string, binary: boolean): SigmaValue[] {
  return [{ parts: v.parts.map((p) => (typeof p === 'string' ? fn(p) : p)), binary }];
}

function utf16be(s: string): string {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i];
    le[i] = le[i + 1];
    le[i + 1] = t;
  }
  return le.toString('latin1');
}

// windash: a dash or slash that starts a command-line flag (`\B[-/]\b`, as pySigma) may be any of
// the five dash characters the specification lists.
const DASHES = '-/\u2013\u2014\u2015';
const WINDASH_POSITION = /\B[-/\u2013\u2014\u2015]\b/g;

function windash(v: SigmaValue): SigmaValue[] {
  const parts: Part[] = [];
  for (const p of v.parts) {
    if (typeof p !== 'string') {
      parts.push(p);
      continue;
    }
    let last = 0;
    for (const m of p.matchAll(WINDASH_POSITION)) {
      if (m.index > last) parts.push(p.slice(last, m.index));
      parts.push({ anyOf: DASHES });
      last = m.index + 1;
    }
    if (last < p.length) parts.push(p.slice(last));
  }
  return [{ parts, binary: v.binary }];
}

// expand: %name% placeholders (spec "Placeholders"); `\%` is a plain percent sign.
const PLACEHOLDER = /\\%|%([^%\s]+)%/g;

function expand(v: SigmaValue, opts: ModifierOptions): SigmaValue[] | Issue {
  let results: Part[][] = [[]];
  for (const p of v.parts) {
    if (typeof p !== 'string') {
      for (const r of results) r.push(p);
      continue;
    }
    let last = 0;
    for (const m of p.matchAll(PLACEHOLDER)) {
      const before = p.slice(last, m.index) + (m[1] === undefined ? '%' : '');
      if (before) for (const r of results) r.push(before);
      last = m.index + m[0].length;
      if (m[1] === undefined) continue;
      const values = opts.placeholders[m[1]];
      if (!values || values.length === 0) {
        return {
          severity: 'unsupported',
          feature: 'placeholder without values (expand)',
          message: `expand: placeholder %${m[1]}% has no values (set detect.placeholders.${m[1]})`,
        };
      }
      const next: Part[][] = [];
      for (const r of results) for (const val of values) next.push([...r, ...parseSigmaString(val)]);
      results = next;
    }
    if (last < p.length) for (const r of results) r.push(p.slice(last));
  }
  return results.map((parts) => ({ parts, binary: v.binary }));
}

const TRANSFORMS: Record<string, Transform> = {
  contains: (v) => wrap(v, true, true),
  startswith: (v) => wrap(v, false, true),
  endswith: (v) => wrap(v, true, false),
  base64: (v) => needsLiteral(v, 'base64') ?? [{ parts: [bytesOf(v).toString('base64')], binary: false }],
  base64offset: (v) =>
    needsLiteral(v, 'base64offset') ??
    [0, 1, 2].map((i) => {
      const bytes = Buffer.concat([Buffer.alloc(i, 0x20), bytesOf(v)]);
      const b64 = bytes.toString('base64');
      return { parts: [b64.slice(B64_START[i], B64_END[bytes.length % 3])], binary: false };
    }),
  utf16le: (v) => mapLiterals(v, (s) => Buffer.from(s, 'utf16le').toString('latin1'), true),
  wide: (v) => mapLiterals(v, (s) => Buffer.from(s, 'utf16le').toString('latin1'), true),
  utf16be: (v) => mapLiterals(v, utf16be, true),
  utf16: (v) =>
    needsLiteral(v, 'utf16') ?? [
      { parts: [`\xff\xfe${Buffer.from(literalText(v.parts), 'utf16le').toString('latin1')}`], binary: true },
    ],
  windash: (v) => windash(v),
  expand,
};

/** Modifiers that change how values are compared rather than what they are. */
const TYPE_MODIFIERS = new Set([
  'all',
  'cased',
  'neq',
  're',
  'i',
  'm',
  's',
  'cidr',
  'exists',
  'fieldref',
  'lt',
  'lte',
  'gt',
  'gte',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
]);

// ---------------------------------------------------------------------------------------------
// Event-side values.

export type Getter = (env: Envelope) => unknown;
export type ScalarTest = (value: unknown) => boolean;
export type Predicate = (env: Envelope) => boolean;
/** Full-text search: true when `test` accepts any string value of the event. */
export type KeywordScan = (env: Envelope, test: ScalarTest) => boolean;

export interface FieldScope {
  field(name: string): Getter;
  keywords: KeywordScan;
}

/** Sigma compares values as strings: numbers and booleans by their text, objects never. */
export function toText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/** A multi-valued field (Zeek sets and vectors, EVE arrays) matches when any element does. */
function anyElement(v: unknown, test: ScalarTest): boolean {
  if (Array.isArray(v)) {
    for (const e of v) if (test(e)) return true;
    return false;
  }
  return test(v);
}

// ---------------------------------------------------------------------------------------------
// String matchers: plain comparisons when the wildcards allow, one anchored regex otherwise.

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** `?` and windash classes need a regex; leading/trailing `*` only drop the anchor. */
function wildcardRegex(parts: Part[], cased: boolean): RegExp {
  let src = '';
  parts.forEach((p, i) => {
    if (typeof p === 'string') src += escapeRegex(p);
    else if (p === MANY) src += i === 0 || i === parts.length - 1 ? '' : '.*';
    else if (p === ONE) src += '.';
    else src += `[${escapeRegex((p as CharClass).anyOf)}]`;
  });
  const anchored = `${parts[0] === MANY ? '' : '^'}${src}${parts[parts.length - 1] === MANY ? '' : '$'}`;
  return new RegExp(anchored, cased ? 's' : 'is');
}

/**
 * A glob with only `*` wildcards: the literal segments must appear in order, the first at the
 * start and the last at the end unless a `*` frees them. Leftmost matching is exact for globs and
 * linear in the text, so no pattern of wildcards can backtrack.
 */
function globTest(segments: string[], lead: boolean, trail: boolean): (s: string) => boolean {
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(lead ? 0 : 1, trail ? segments.length : segments.length - 1);
  return (s) => {
    let from = 0;
    let to = s.length;
    if (!lead) {
      if (!s.startsWith(first)) return false;
      from = first.length;
    }
    if (!trail) {
      if (!s.endsWith(last) || s.length - last.length < from) return false;
      to = s.length - last.length;
    }
    for (const seg of middle) {
      const at = s.indexOf(seg, from);
      if (at < 0 || at + seg.length > to) return false;
      from = at + seg.length;
    }
    return true;
  };
}

interface StringSet {
  equal: Set<string>;
  prefix: string[];
  suffix: string[];
  contains: string[];
  globs: Array<(s: string) => boolean>;
  regex: RegExp[];
  any: boolean;
}

function classify(values: SigmaValue[], cased: boolean): StringSet {
  const set: StringSet = {
    equal: new Set(),
    prefix: [],
    suffix: [],
    contains: [],
    globs: [],
    regex: [],
    any: false,
  };
  const fold = (s: string) => (cased ? s : s.toLowerCase());
  for (const { parts } of values) {
    const n = parts.length;
    const inner = parts.slice(parts[0] === MANY ? 1 : 0, parts[n - 1] === MANY && n > 1 ? n - 1 : n);
    const lead = parts[0] === MANY;
    const trail = n > 1 && parts[n - 1] === MANY;
    if (n > 0 && parts.every((p) => p === MANY)) set.any = true;
    else if (!isLiteral(inner) && inner.every((p) => typeof p === 'string' || p === MANY)) {
      const segments = splitGlob(parts).map(fold);
      set.globs.push(globTest(segments, lead, trail));
    } else if (!isLiteral(inner)) set.regex.push(wildcardRegex(parts, cased));
    else {
      const text = fold(literalText(inner));
      if (lead && trail) set.contains.push(text);
      else if (lead) set.suffix.push(text);
      else if (trail) set.prefix.push(text);
      else set.equal.add(text);
    }
  }
  return set;
}

/** The literal runs between `*` wildcards (adjacent stars collapse). */
function splitGlob(parts: Part[]): string[] {
  const segments: string[] = [];
  let cur = '';
  for (const p of parts) {
    if (p === MANY) {
      if (cur) segments.push(cur);
      cur = '';
    } else cur += p as string;
  }
  if (cur) segments.push(cur);
  return segments;
}

/**
 * Substring lists (keywords, `contains`) become one alternation of escaped literals run on the
 * original text with the `i` flag: irregexp scans the text once for all needles and no lowercased
 * copy of the text is made (that copy was the main per-event cost of keyword rules). Literal
 * alternations cannot backtrack catastrophically.
 */
function literalAlternation(needles: string[], cased: boolean): RegExp | undefined {
  if (needles.length === 0) return undefined;
  return new RegExp(needles.map(escapeRegex).join('|'), cased ? '' : 'i');
}

// The last text case-folded and its fold: an event's field is usually read by several rules in a
// row (every web rule reads the URL), so one lowercased copy serves them all.
let lastText = '';
let lastFolded = '';

function folded(text: string): string {
  if (text !== lastText) {
    lastFolded = text.toLowerCase();
    lastText = text;
  }
  return lastFolded;
}

/** Prefixes (`startswith`, `abc*`) as one anchored alternation of literals: one scan for all. */
function prefixAlternation(prefixes: string[]): RegExp | undefined {
  if (prefixes.length < 2) return undefined;
  return new RegExp(`^(?:${prefixes.map(escapeRegex).join('|')})`);
}

function stringTest(values: SigmaValue[], cased: boolean, regexMaxLength: number): ScalarTest {
  const { equal, prefix, suffix, contains, globs, regex, any } = classify(values, cased);
  const containsRegex = literalAlternation(contains, cased);
  const prefixRegex = prefixAlternation(prefix);
  const onePrefix = prefix.length === 1 ? prefix[0] : undefined;
  // Only exact, prefix, suffix and glob comparisons need the case-folded text.
  const fold = equal.size > 0 || prefix.length > 0 || suffix.length > 0 || globs.length > 0;
  return (v) => {
    const text = toText(v);
    if (text === undefined) return false;
    if (any) return true;
    if (fold) {
      // A finite number's text (digits, '.', '-', 'e', '+') has no case to fold.
      const s = cased || (typeof v === 'number' && Number.isFinite(v)) ? text : folded(text);
      if (equal.has(s)) return true;
      if (onePrefix !== undefined ? s.startsWith(onePrefix) : prefixRegex?.test(s)) return true;
      for (const p of suffix) if (s.endsWith(p)) return true;
      for (const g of globs) if (g(s)) return true;
    }
    if (containsRegex?.test(text)) return true;
    if (regex.length > 0) {
      const capped = capRegexInput(text, regexMaxLength);
      for (const r of regex) if (r.test(capped)) return true;
    }
    return false;
  };
}

// ---------------------------------------------------------------------------------------------
// Type modifiers.

function regexTest(pattern: string, reFlags: string, regexMaxLength: number): ScalarTest | Issue {
  const t = translatePcre(pattern, reFlags);
  const nested = findNestedQuantifier(t.source);
  if (nested)
    return { severity: 'unsupported', feature: 're (pathological)', message: `re '${pattern}': ${nested}` };
  let re: RegExp;
  try {
    re = new RegExp(t.source, t.flags);
  } catch (err) {
    return {
      severity: 'unsupported',
      feature: 're (syntax)',
      message: `re '${pattern}' is not a JavaScript regular expression: ${(err as Error).message}`,
    };
  }
  return (v) => {
    const text = toText(v);
    return text !== undefined && re.test(capRegexInput(text, regexMaxLength));
  };
}

function cidrTest(cidrs: string[]): ScalarTest | Issue {
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split('/');
    const family = isIP(net);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      return {
        severity: 'error',
        feature: 'modifier cidr',
        message: `cidr: '${c}' is not an IPv4/IPv6 network`,
      };
    }
    list.addSubnet(net, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return (v) => {
    const text = toText(v);
    if (text === undefined) return false;
    const family = isIP(text);
    return family !== 0 && list.check(text, family === 6 ? 'ipv6' : 'ipv4');
  };
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
};

/** ISO-8601 week number (1–53) of a UTC date. */
function isoWeek(d: Date): number {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

const TIME_PARTS: Record<string, (d: Date) => number> = {
  minute: (d) => d.getUTCMinutes(),
  hour: (d) => d.getUTCHours(),
  day: (d) => d.getUTCDate(),
  week: isoWeek,
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

/** Event times arrive as epoch seconds (Zeek `ts`), epoch milliseconds or ISO-8601 text. */
function toDate(v: unknown): Date | undefined {
  let ms: number;
  if (typeof v === 'number') ms = Math.abs(v) < 1e11 ? v * 1000 : v;
  else if (typeof v === 'string') ms = Date.parse(v);
  else return undefined;
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

// ---------------------------------------------------------------------------------------------
// Detection items.

/** A compiled detection item: the fields it reads and how to bind it to a field scope. */
export interface DetectionItem {
  fields: string[];
  bind(scope: FieldScope): Predicate;
}

function problem(feature: string, message: string, severity: Issue['severity'] = 'error'): Issue {
  return { severity, feature, message };
}

/** Compiles `key: value` of a detection map; an empty field name (`'|all'`) is a keyword item. */
export function compileItem(key: string, value: unknown, opts: ModifierOptions): DetectionItem | Issue {
  const [field, ...mods] = key.split('|');
  for (const m of mods) {
    if (!(m in TRANSFORMS) && !TYPE_MODIFIERS.has(m))
      return problem(`modifier ${m}`, `unknown modifier '${m}' in '${key}'`);
  }
  const has = (m: string) => mods.includes(m);
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) return problem('empty value list', `'${key}' has an empty value list`);
  for (const v of values) {
    if (v !== null && typeof v === 'object')
      return problem('nested value', `'${key}' has a nested map or list as value`);
  }
  const keyword = field === '';

  if (has('exists')) return existsItem(field, key, values);
  if (has('fieldref')) return fieldrefItem(field, key, mods, values);
  const timePart = mods.find((m) => m in TIME_PARTS);
  const cmp = mods.find((m) => m in COMPARE);
  if (timePart || cmp) return numericItem(field, key, values, cmp, timePart, has('neq'), has('all'));

  // Null: the field is absent or null (spec "Special Field Values").
  const nonNull = values.filter((v) => v !== null);
  const wantsNull = nonNull.length < values.length;

  let tests: ScalarTest[];
  if (has('re')) {
    const flags = ['i', 'm', 's'].filter((f) => has(f)).join('');
    tests = [];
    for (const v of nonNull) {
      if (typeof v !== 'string') return problem('modifier re', `'${key}': regex must be a string`);
      const t = regexTest(v, flags, opts.regexMaxLength);
      if (isIssue(t)) return t;
      tests.push(t);
    }
    if (!has('all')) tests = tests.length > 1 ? [orTests(tests)] : tests;
  } else if (has('cidr')) {
    if (nonNull.some((v) => typeof v !== 'string'))
      return problem('modifier cidr', `'${key}': cidr must be a string`);
    const strs = nonNull as string[];
    const groups = has('all') ? strs.map((s) => [s]) : [strs];
    tests = [];
    for (const g of groups) {
      const t = cidrTest(g);
      if (isIssue(t)) return t;
      tests.push(t);
    }
  } else {
    const transforms = mods.filter((m) => m in TRANSFORMS);
    // Keywords are full-text searches: a keyword matches inside any string value of the event.
    if (keyword && !transforms.some((m) => m === 'contains' || m === 'startswith' || m === 'endswith')) {
      transforms.unshift('contains');
    }
    const groups: SigmaValue[][] = [];
    for (const v of nonNull) {
      const alts = applyTransforms(toSigmaValue(v), transforms, opts);
      if (isIssue(alts)) return { ...alts, message: `'${key}': ${alts.message}` };
      groups.push(alts);
    }
    const cased = has('cased');
    tests = has('all')
      ? groups.map((g) => stringTest(g, cased, opts.regexMaxLength))
      : nonNull.length > 0
        ? [stringTest(groups.flat(), cased, opts.regexMaxLength)]
        : [];
  }

  const neq = has('neq');
  return {
    fields: keyword ? [] : [field],
    bind(scope) {
      if (keyword) return keywordPredicate(scope.keywords, tests);
      return valuePredicate(scope.field(field), tests, wantsNull, neq);
    },
  };
}

function orTests(tests: ScalarTest[]): ScalarTest {
  return (v) => {
    for (const t of tests) if (t(v)) return true;
    return false;
  };
}

function toSigmaValue(v: unknown): SigmaValue {
  // Numbers and booleans are compared by their text and carry no wildcards.
  if (typeof v === 'string') return { parts: parseSigmaString(v), binary: false };
  return { parts: [String(v)], binary: false };
}

function applyTransforms(v: SigmaValue, transforms: string[], opts: ModifierOptions): SigmaValue[] | Issue {
  let current = [v];
  for (const name of transforms) {
    const next: SigmaValue[] = [];
    for (const c of current) {
      const out = TRANSFORMS[name](c, opts);
      if (isIssue(out)) return out;
      next.push(...out);
    }
    current = next;
  }
  return current;
}

function valuePredicate(get: Getter, tests: ScalarTest[], wantsNull: boolean, neq: boolean): Predicate {
  if (neq) {
    // pySigma renders neq as `not field=value`: an absent field is "different" too.
    const [t] = tests;
    return (env) => !anyElement(get(env), t);
  }
  if (tests.length === 0) return (env) => get(env) == null;
  if (tests.length === 1) {
    const [t] = tests;
    if (wantsNull)
      return (env) => {
        const v = get(env);
        return v == null || anyElement(v, t);
      };
    return (env) => anyElement(get(env), t);
  }
  return (env) => {
    const v = get(env);
    if (wantsNull && v == null) return true;
    for (const t of tests) if (!anyElement(v, t)) return false;
    return true;
  };
}

function keywordPredicate(scan: KeywordScan, tests: ScalarTest[]): Predicate {
  if (tests.length === 1) {
    const [t] = tests;
    return (env) => scan(env, t);
  }
  return (env) => {
    for (const t of tests) if (!scan(env, t)) return false;
    return true;
  };
}

function existsItem(field: string, key: string, values: unknown[]): DetectionItem | Issue {
  if (values.length !== 1 || typeof values[0] !== 'boolean')
    return problem('modifier exists', `'${key}': exists takes true or false`);
  const want = values[0];
  return {
    fields: [field],
    bind(scope) {
      const get = scope.field(field);
      return (env) => (get(env) !== undefined) === want;
    },
  };
}

/** How a `fieldref` compares: pySigma's SigmaFieldReference with its starts_with / ends_with. */
type RefCompare = (value: string, ref: string) => boolean;

const REF_COMPARE: Record<string, RefCompare> = {
  equal: (v, r) => v === r,
  startswith: (v, r) => v.startsWith(r),
  endswith: (v, r) => v.endsWith(r),
  contains: (v, r) => v.includes(r),
};

/**
 * `field|fieldref: other`: the field's value equals the other field's value (case-insensitive
 * unless `cased`). With `startswith` / `endswith` / `contains` it starts with, ends with or
 * contains it (pySigma: the string modifiers set starts_with / ends_with on the field reference).
 */
function fieldrefItem(field: string, key: string, mods: string[], values: unknown[]): DetectionItem | Issue {
  if (values.some((v) => typeof v !== 'string'))
    return problem('modifier fieldref', `'${key}': fieldref takes field names`);
  const allowed = ['fieldref', 'neq', 'cased', 'startswith', 'endswith', 'contains'];
  const unsupported = mods.filter((m) => !allowed.includes(m));
  if (unsupported.length > 0)
    return problem(
      `modifier fieldref|${unsupported[0]}`,
      `'${key}': fieldref combined with ${unsupported[0]}`,
      'unsupported',
    );
  const neq = mods.includes('neq');
  const cased = mods.includes('cased');
  const starts = mods.includes('startswith') || mods.includes('contains');
  const ends = mods.includes('endswith') || mods.includes('contains');
  const compare =
    REF_COMPARE[starts && ends ? 'contains' : starts ? 'startswith' : ends ? 'endswith' : 'equal'];
  const others = values as string[];
  const same = (a: unknown, b: unknown): boolean => {
    const x = toText(a);
    const y = toText(b);
    if (x === undefined || y === undefined) return false;
    return cased ? compare(x, y) : compare(x.toLowerCase(), y.toLowerCase());
  };
  return {
    fields: [field, ...others],
    bind(scope) {
      const get = scope.field(field);
      const refs = others.map((o) => scope.field(o));
      return (env) => {
        const v = get(env);
        for (const r of refs) if (same(v, r(env))) return !neq;
        return neq;
      };
    },
  };
}

function numericItem(
  field: string,
  key: string,
  values: unknown[],
  cmp: string | undefined,
  timePart: string | undefined,
  neq: boolean,
  all: boolean,
): DetectionItem | Issue {
  const nums = values.map(toNumber);
  if (nums.some((n) => n === undefined))
    return problem(`modifier ${cmp ?? timePart}`, `'${key}': value must be a number`);
  const compare = cmp ? COMPARE[cmp] : (a: number, b: number) => a === b;
  const extract = timePart ? TIME_PARTS[timePart] : undefined;
  const numberOf = (v: unknown): number | undefined => {
    if (!extract) return toNumber(v);
    const d = toDate(v);
    return d ? extract(d) : undefined;
  };
  const testFor = (wanted: number[]): ScalarTest => {
    if (wanted.length === 1) {
      const [w] = wanted;
      return (v) => {
        const n = numberOf(v);
        return n !== undefined && compare(n, w);
      };
    }
    return (v) => {
      const n = numberOf(v);
      if (n === undefined) return false;
      for (const w of wanted) if (compare(n, w)) return true;
      return false;
    };
  };
  // `|all`: every value must hold (`test|lt|all: [10, 15]` is `test < 10 and test < 15`, as
  // pySigma renders it), each one like a detection item of its own over a multi-valued field.
  const tests = all ? (nums as number[]).map((w) => testFor([w])) : [testFor(nums as number[])];
  return {
    fields: [field],
    bind(scope) {
      const get = scope.field(field);
      if (tests.length === 1) {
        const [test] = tests;
        return neq ? (env) => !anyElement(get(env), test) : (env) => anyElement(get(env), test);
      }
      const every = (env: Envelope) => {
        const v = get(env);
        for (const t of tests) if (!anyElement(v, t)) return false;
        return true;
      };
      return neq ? (env) => !every(env) : every;
    },
  };
}
