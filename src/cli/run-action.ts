import { EXIT, SocError } from '../core/errors.ts';

/**
 * Wraps a command action: a SocError prints its message and exits with its code (2 for config and
 * usage, 1 for runtime); anything else is a runtime failure with exit 1. Never a stack trace for a
 * user mistake.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
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
