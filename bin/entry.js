// Which CLI entry bin/socstream.js runs. The compiled one (dist/cli/main.js) only when a build
// completed: scripts/build.ts writes dist/build-complete.json last and swaps dist/ in whole, so
// a partial or failed build is never run. Otherwise the TypeScript sources (Node >= 22.18 strips
// types natively).
import { existsSync } from 'node:fs';

export const BUILD_MARKER = 'build-complete.json';

/** The entry module under the package root `root` (a file: URL ending in '/'). */
export function cliEntry(root) {
  return existsSync(new URL(`dist/${BUILD_MARKER}`, root))
    ? new URL('dist/cli/main.js', root)
    : new URL('src/cli/main.ts', root);
}

/** Arenas the launcher lets glibc keep (MALLOC_ARENA_MAX) when the environment does not say. */
export const MALLOC_ARENAS = '2';

/**
 * On Linux, replaces the current process with itself under MALLOC_ARENA_MAX=2 (when
 * unset: an explicit value, even the glibc default, is the user's choice). process.execve keeps
 * the pid, stdio and signals: a supervisor or `kill` sees one process. Elsewhere, or on a Node
 * without process.execve, it does nothing (musl ignores the variable: one restart, ~40 ms).
 */
export function arenaLimitedExec(proc) {
  if (proc.platform !== 'linux' || proc.env.MALLOC_ARENA_MAX !== undefined) return;
  if (typeof proc.execve !== 'function') return;
  proc.execve(proc.execPath, [proc.execPath, ...proc.execArgv, ...proc.argv.slice(1)], {
    ...proc.env,
    MALLOC_ARENA_MAX: MALLOC_ARENAS,
  });
}
