/**
 * Guards against regular expressions that can stall the pipeline (catastrophic backtracking).
 *
 * JavaScript's RegExp is a backtracking engine: a pattern such as `(a+)+$` takes exponential time
 * on `aaaa…b`, and `(.*x){20}` polynomial time of degree 20. Two defences, both applied once per
 * rule at compile time:
 *
 * 1. `findNestedQuantifier` rejects a pattern whose repeated group itself contains an unbounded
 *    quantifier (star height > 1: `(a+)+`, `(a*)*`, `(?:.*\)){1,}`, `(\w+\s?){2,20}`), or whose
 *    group of alternatives repeats more than 8 times (`(a|aa)+`, `(a|a)*`: overlapping branches
 *    are exponential). The rule is skipped with a problem naming the group. This is a conservative
 *    syntactic check: it also rejects some harmless patterns such as `([a-z]+\.)+`, which is the
 *    price of never stalling.
 * 2. `capRegexInput` bounds the text any Sigma regex runs on to `detect.regex_max_length`
 *    characters, so the remaining super-linear patterns (several `.*` in a row are polynomial)
 *    have a bounded worst case per event. Sigma wildcards (`*`) never become regexes at all: they
 *    are matched by an ordered substring search, which is linear (modifiers.ts).
 *
 * PCRE spellings that JavaScript lacks but that mean the same are translated (`(?i)` prefix → the
 * `i` flag, `(?P<name>` → `(?<name>`, `\A`/`\Z`/`\z` anchors); anything else JavaScript rejects is
 * reported by the caller as an unsupported regex.
 */

/** Returns a description of the first nested unbounded quantifier, or undefined when none. */
export function findNestedQuantifier(pattern: string): string | undefined {
  // Stack of open groups: where each starts and whether it contains an unbounded quantifier.
  const stack: { start: number; unbounded: boolean; alternation: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      stack.push({ start: i, unbounded: false, alternation: false });
      continue;
    }
    if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.alternation = true;
      continue;
    }
    if (c === ')') {
      const group = stack.pop();
      if (!group) continue;
      const q = quantifierAt(pattern, i + 1);
      const text = pattern.slice(group.start, i + 1);
      if (group.unbounded && q.repeats) {
        return `nested quantifier: group ${text} contains an unbounded quantifier and is itself repeated by '${q.text}'`;
      }
      if (group.alternation && q.max > MAX_ALTERNATION_REPEATS) {
        return `repeated alternation: group ${text} has alternatives and is repeated by '${q.text}' (branches can overlap)`;
      }
      // A group repeated without bound makes its enclosing group unbounded too.
      const top = stack[stack.length - 1];
      if (top && (group.unbounded || q.unbounded)) top.unbounded = true;
      continue;
    }
    const q = quantifierAt(pattern, i);
    if (q.text && q.unbounded) {
      const top = stack[stack.length - 1];
      if (top) top.unbounded = true;
      i += q.text.length - 1;
    }
  }
  return undefined;
}

/** A group with alternatives may repeat this often (`(?:25[0-5]|…){4}` in IP patterns is fine). */
const MAX_ALTERNATION_REPEATS = 8;

interface Quantifier {
  text: string;
  max: number;
  /** No upper bound: `*`, `+`, `{n,}`. */
  unbounded: boolean;
  /** Can repeat more than once (anything but `?` and `{0,1}`/`{1}`). */
  repeats: boolean;
}

const NO_QUANTIFIER: Quantifier = { text: '', max: 1, unbounded: false, repeats: false };
const BRACE_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

function quantifierAt(pattern: string, i: number): Quantifier {
  const c = pattern[i];
  if (c === '*' || c === '+')
    return { text: c, max: Number.POSITIVE_INFINITY, unbounded: true, repeats: true };
  if (c === '?') return { text: c, max: 1, unbounded: false, repeats: false };
  if (c === '{') {
    const m = BRACE_QUANTIFIER.exec(pattern.slice(i));
    if (!m) return NO_QUANTIFIER;
    const unbounded = m[2] !== undefined && m[3] === '';
    const max = m[2] === undefined ? Number(m[1]) : unbounded ? Number.POSITIVE_INFINITY : Number(m[3]);
    return { text: m[0], max, unbounded, repeats: max > 1 };
  }
  return NO_QUANTIFIER;
}

export interface TranslatedRegex {
  source: string;
  flags: string;
}

/** Translates the PCRE spellings Sigma rules use into JavaScript; flags come from the re|i|m|s modifiers. */
export function translatePcre(pattern: string, flags: string): TranslatedRegex {
  let source = pattern;
  let f = flags;
  // A leading inline flag group applies to the whole pattern: turn it into RegExp flags.
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const flag of inline[1]) if (!f.includes(flag)) f += flag;
  }
  source = source
    .replaceAll('(?P<', '(?<')
    .replace(/^\\A/, '^')
    .replace(/\\[Zz]$/, '$');
  return { source, flags: f };
}

/** The text a regex sees: at most maxLength characters (see the module comment). */
export function capRegexInput(text: string, maxLength: number): string {
  return text.length > maxLength ? text.slice(0, maxLength) : text;
}
