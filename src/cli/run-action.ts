import { EXIT, SocError, UsageError } from '../core/errors.ts';

/** File-system answers that mean the user named a path that is not there or not usable. */
const PATH_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM']);

/**
 * A file-system error about a path the user gave, as the usage error every command answers with
 * (SOC_USAGE, exit 2), or null for anything else.
 */
export function pathUsageError(err: unknown): UsageError | null {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e.code !== 'string' || !PATH_ERRNOS.has(e.code) || typeof e.path !== 'string') return null;
  return new UsageError(`cannot read ${e.path}: ${e.code}`);
}

/**
 * Wraps a command action: a SocError prints its message and exits with its code (2 for config and
 * usage, 1 for runtime); a file-system error about a path is a usage error too; anything else is
 * a runtime failure with exit 1. Never a stack trace for a user mistake.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (caught) {
      const err = pathUsageError(caught) ?? caught;
      if (err instanceof SocError) {
        process.stderr.write(`socstream: ${err.code}: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`socstream: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = EXIT.runtime;
      }
    }
  };
}
