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
 * V8 heap flags the launcher adds when the node command line does not set the same flag
 * (docs/benchmarks.md "Memory (2026-12-08, issue 20m)", docs/deploy.md "Memory"): each
 * young-generation semi-space at most 16 MB. V8's own cap here is 64 MB, so the new space alone
 * took 128 MB of RSS; a scavenge costs what survives it (what is in flight), not the space's size.
 * `--heap-growing-percent=100` (old generation ≤ 2× the live set) is not a default: ~100 MB less
 * on a Kafka deployment at no measured cost, but 10–25 % more CPU per event on the memory bus,
 * whose live set is larger; the Docker image (a Kafka deployment) sets it on its command line.
 */
export const V8_MEMORY_FLAGS = ['--max-semi-space-size=16'];

/** The flag's name (`--max-semi-space-size` of `--max-semi-space-size=16`), `_` read as `-`. */
function flagName(flag) {
  return flag.split('=')[0].replaceAll('_', '-');
}

/** V8_MEMORY_FLAGS the user did not set, in `execArgv` or in NODE_OPTIONS. */
export function missingMemoryFlags(execArgv, nodeOptions = '') {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter(Boolean).map(flagName));
  return V8_MEMORY_FLAGS.filter((f) => !given.has(flagName(f)));
}

/**
 * On Linux, replaces the current process with itself under MALLOC_ARENA_MAX=2 (when
 * unset: an explicit value, even the glibc default, is the user's choice) and with the
 * V8_MEMORY_FLAGS the user did not set. process.execve keeps the pid, stdio and signals: a
 * supervisor or `kill` sees one process. Elsewhere, or on a Node without process.execve, it does
 * nothing (musl ignores the variable: one restart, ~40 ms). It runs at most once: after the
 * restart the variable is set and the flags are in execArgv.
 */
export function arenaLimitedExec(proc) {
  if (proc.platform !== 'linux' || typeof proc.execve !== 'function') return;
  const setArenas = proc.env.MALLOC_ARENA_MAX === undefined;
  const flags = missingMemoryFlags(proc.execArgv, proc.env.NODE_OPTIONS);
  if (!setArenas && flags.length === 0) return;
  proc.execve(proc.execPath, [proc.execPath, ...flags, ...proc.execArgv, ...proc.argv.slice(1)], {
    ...proc.env,
    ...(setArenas ? { MALLOC_ARENA_MAX: MALLOC_ARENAS } : {}),
  });
}
