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
