import type { z } from 'zod';
import { ConfigError } from './errors.ts';

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
