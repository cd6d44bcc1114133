/**
 * Compiles an nginx `log_format` string (`'$remote_addr - $remote_user [$time_local] "$request" ...'`)
 * into ONE regular expression with a capture group per variable, once, at parser creation.
 *
 * Each variable's pattern depends on what follows it: inside quotes it runs to the closing quote
 * (nginx escapes `"` inside values as `\x22`, Apache as `\"`); otherwise to the first character of
 * the next literal. Variables with a known shape get a tighter pattern so the match cannot shift.
 */
import { ConfigError } from '../core/errors.ts';
export interface CompiledLogFormat {
  regex: RegExp;
  /** Variable names in capture-group order (without `$`). */
  variables: string[];
}

const QUOTED_VALUE = String.raw`((?:[^"\\]|\\.)*)`;

/** Patterns for variables whose shape is fixed; the rest are derived from the next literal. */
const KNOWN_SHAPES: Record<string, string> = {
  time_local: String.raw`(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})`,
  time_iso8601: String.raw`(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)`,
  msec: String.raw`(\d+(?:\.\d+)?)`,
  status: String.raw`(\d{3})`,
  body_bytes_sent: String.raw`(\d+|-)`,
  bytes_sent: String.raw`(\d+|-)`,
  request_length: String.raw`(\d+|-)`,
  request_time: String.raw`(\d+(?:\.\d+)?|-)`,
  connection: String.raw`(\d+)`,
  pipe: '([p.])',
};

const VARIABLE_RE = /\$(?:\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g;

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function valuePattern(name: string, nextLiteral: string, quoted: boolean): string {
  const known = KNOWN_SHAPES[name];
  if (known !== undefined) return known;
  if (quoted) return QUOTED_VALUE;
  if (nextLiteral.length === 0) return '(.*)';
  // Unquoted: the value runs up to the first character of the next literal.
  const stop = nextLiteral[0].replace(/[\\\]^-]/g, '\\$&');
  return `([^${stop}]*)`;
}

/** Throws Error with a readable message when the format has no variables. */
export function compileLogFormat(format: string): CompiledLogFormat {
  const literals: string[] = [];
  const variables: string[] = [];
  let last = 0;
  VARIABLE_RE.lastIndex = 0;
  for (let m = VARIABLE_RE.exec(format); m !== null; m = VARIABLE_RE.exec(format)) {
    literals.push(format.slice(last, m.index));
    variables.push(m[1] ?? m[2]);
    last = m.index + m[0].length;
  }
  literals.push(format.slice(last));
  if (variables.length === 0)
    throw new ConfigError(`log_format has no $variables: ${JSON.stringify(format)}`);
  let source = '^';
  for (let i = 0; i < variables.length; i++) {
    const before = literals[i];
    const after = literals[i + 1];
    source += escapeLiteral(before);
    const quoted = before.endsWith('"') && after.startsWith('"');
    source += valuePattern(variables[i], after, quoted);
  }
  source += `${escapeLiteral(literals[literals.length - 1])}$`;
  return { regex: new RegExp(source), variables };
}
