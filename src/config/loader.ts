import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { type Config, configSchema } from './schema.ts';

export const ENV_PREFIX = 'SOCSTREAM_';
/** Env keys that are settings of the program itself, not config overrides. */
const ENV_NOT_CONFIG = new Set(['SKIP_KAFKA', 'LOG_LEVEL', 'CONFIG', 'TOKEN']);

/** `SOCSTREAM_LAKE__FLUSH_EVENT_COUNT=5000` → `{ lake: { flush_event_count: 5000 } }`. */
export function envOverrides(
  env: NodeJS.ProcessEnv,
): Array<{ path: string[]; value: unknown; name: string }> {
  const out: Array<{ path: string[]; value: unknown; name: string }> = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length);
    if (ENV_NOT_CONFIG.has(rest) || rest.startsWith('TOKEN_')) continue;
    const path = rest.split('__').map((p) => p.toLowerCase());
    // Values are YAML scalars or flow collections: 5000 → number, [a, b] → array, true → boolean.
    let value: unknown = raw;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    out.push({ path, value, name });
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

/** The fix to suggest for one zod issue. */
function fixFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `remove ${issue.keys.map((k) => `"${k}"`).join(', ')} or check the spelling (docs/config.md lists every key)`;
    case 'invalid_type':
      return `set it to a ${issue.expected}`;
    case 'invalid_value':
      return `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    // zod reports positive() as minimum 0, exclusive: say "> 0", not ">= 0"
    case 'too_small':
      return `use a value ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `use a value ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    default:
      return 'see docs/config.md';
  }
}

/** Turns zod issues into one ConfigError that names the file, each key path, the problem and the fix. */
export function configErrorFromIssues(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ConfigError {
  const lines = issues.map((issue) => {
    const path = formatPath([...prefix, ...issue.path]);
    return `  ${file}: ${path}: ${issue.message}. Fix: ${fixFor(issue)}`;
  });
  return new ConfigError(`invalid config\n${lines.join('\n')}`);
}

/** Validates a plain object as config; `file` names where it came from in errors. */
export function validateConfig(input: unknown, file: string): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw configErrorFromIssues(file, result.error.issues);
  return result.data;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** Reads socstream.yaml (or no file: defaults), applies SOCSTREAM_* overrides, validates. */
export function loadConfig(file: string | undefined, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  let doc: Record<string, unknown> = {};
  const name = file ?? '(defaults)';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `${file}: cannot read config (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    try {
      const parsed = parseYaml(text, { prettyErrors: true });
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new ConfigError(
          `${file}: (top level): expected a mapping of keys. Fix: see config/socstream.example.yaml`,
        );
      }
      doc = (parsed ?? {}) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const where = err instanceof YAMLParseError ? ` at line ${err.linePos?.[0]?.line}` : '';
      throw new ConfigError(`${file}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  for (const o of envOverrides(env)) setPath(doc, o.path, o.value);
  return validateConfig(doc, name);
}
