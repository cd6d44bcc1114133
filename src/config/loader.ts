import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configErrorFromIssues } from '../core/config-issues.ts';
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

export { configErrorFromIssues };

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
