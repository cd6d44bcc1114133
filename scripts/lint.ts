/**
 * `npm run lint` (and the first step of `npm test`): Biome (format and lint rules), then
 * dependency-cruiser on src/ with .dependency-cruiser.cjs: no import circle, core/ imports nothing
 * above it, every floor imports only downwards, no role imports another role.
 * Exits non-zero on the first tool that fails.
 */
import { spawnSync } from 'node:child_process';

const CHECKS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['biome', ['node_modules/@biomejs/biome/bin/biome', 'check', '.']],
  [
    'dependency-cruiser',
    [
      'node_modules/dependency-cruiser/bin/dependency-cruise.mjs',
      'src',
      '--config',
      '.dependency-cruiser.cjs',
    ],
  ],
];

for (const [name, args] of CHECKS) {
  const status = spawnSync(process.execPath, args, { stdio: 'inherit' }).status;
  if (status !== 0) {
    process.stderr.write(`lint: ${name} failed\n`);
    process.exit(status ?? 1);
  }
}
