import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';

/**
 * The one way every command answers a missing input (issue 17): a file or lake that is not there
 * is a usage error (SOC_USAGE, exit 2) naming the flag and the path, checked before anything
 * starts (no rule loading, no DuckDB, no stack trace).
 */

/** Why `path` cannot be read as `kind`, or null when it can. */
function pathProblem(path: string, kind: 'file' | 'directory'): string | null {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file or directory' : (code ?? 'cannot be read');
  }
  if (kind === 'file' && isDirectory) return `a directory (give the files, e.g. ${path}/*.log)`;
  if (kind === 'directory' && !isDirectory) return 'not a directory';
  return null;
}

/** Log files given as arguments (`-` is stdin): each must be a readable file. */
export function checkInputFiles(inputs: readonly string[]): void {
  for (const input of inputs) {
    if (input === '-') continue;
    const problem = pathProblem(input, 'file');
    if (problem) throw new UsageError(`cannot read ${input}: ${problem}`);
  }
}

/** A lake root given by `flag` (or the config): it must be an existing directory. */
export function checkLakeDir(dir: string, flag = '--lake'): void {
  const problem = pathProblem(dir, 'directory');
  if (problem)
    throw new UsageError(
      `${flag} ${dir}: the lake is missing (${problem}); give the lake root that \`socstream run\` writes (lake.dir in the config)`,
    );
}
