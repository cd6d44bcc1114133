/**
 * Guards against regular expressions that can stall the pipeline (catastrophic backtracking).
 *
 * JavaScript's RegExp is a backtracking engine: a pattern such as `(a+)+$` takes exponential time
 * on `aaaa…b`, and `(.*x){20}` polynomial time of degree 20. Two defences, both applied once per
 * rule at compile time:
 *
 * 1. `findNestedQuantifier` rejects a pattern whose repeated group itself contains an unbounded
 *    quantifier (star height > 1: `(a+)+`, `(a*)*`, `(?:.*\)){1,}`, `(\w+\s?){2,20}`). The rule is
 *    skipped with a problem naming the group. This is a conservative syntactic check: it also
 *    rejects some harmless patterns such as `([a-z]+\.)+`, which is the price of never stalling.
 * 2. `capRegexInput` bounds the text any Sigma regex runs on to `detect.regex_max_length`
 *    characters, so even the remaining super-linear patterns (overlapping alternations) have a
 *    bounded worst case per event.
 *
 * PCRE spellings that JavaScript lacks but that mean the same are translated (`(?i)` prefix → the
 * `i` flag, `(?P<name>` → `(?<name>`, `\A`/`\Z`/`\z` anchors); anything else JavaScript rejects is
 * reported by the caller as an unsupported regex.
 */

/** Returns a description of the first nested unbounded quantifier, or undefined when none. */
export function findNestedQuantifier(pattern: string): string | undefined {
  // Stack of open groups: where each starts and whether it contains an unbounded quantifier.
  const stack: { start: number; unbounded: boolean }[] = [];
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
      stack.push({ start: i, unbounded: false });
      continue;
    }
    if (c === ')') {
      const group = stack.pop();
      if (!group) continue;
      const q = quantifierAt(pattern, i + 1);
      if (group.unbounded && q.repeats) {
        return `nested quantifier: group ${pattern.slice(group.start, i + 1)} contains an unbounded quantifier and is itself repeated by '${q.text}'`;
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

interface Quantifier {
  text: string;
  /** No upper bound: `*`, `+`, `{n,}`. */
  unbounded: boolean;
  /** Can repeat more than once (anything but `?` and `{0,1}`/`{1}`). */
  repeats: boolean;
}

const NO_QUANTIFIER: Quantifier = { text: '', unbounded: false, repeats: false };
const BRACE_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

function quantifierAt(pattern: string, i: number): Quantifier {
  const c = pattern[i];
  if (c === '*' || c === '+') return { text: c, unbounded: true, repeats: true };
  if (c === '?') return { text: c, unbounded: false, repeats: false };
  if (c === '{') {
    const m = BRACE_QUANTIFIER.exec(pattern.slice(i));
    if (!m) return NO_QUANTIFIER;
    const unbounded = m[2] !== undefined && m[3] === '';
    const max = m[2] === undefined ? Number(m[1]) : unbounded ? Number.POSITIVE_INFINITY : Number(m[3]);
    return { text: m[0], unbounded, repeats: max > 1 };
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
