/**
 * `npm run build`: the compiled CLI in dist/, complete or not at all.
 *
 * 1. Builds everything into a fresh sibling folder (`dist.building-<pid>`): the dashboard
 *    (scripts/build-web.ts → web/), the data files the code reads beside itself at run time (every
 *    file of src/ that is not TypeScript: logsources.yaml, the normalize mappings, …), then the
 *    TypeScript (tsconfig.build.json, rootDir src/).
 * 2. Writes the completion marker (`build-complete.json`) last, then swaps the folder in with
 *    renames. bin/socstream.js runs dist/ only when that marker is there (bin/entry.js).
 * 3. On any failure the half-built folder and any older dist/ are removed, so the bin runs the
 *    sources rather than a partial or stale build. Nothing is ever written outside dist/.
 *
 * The rule pack (rules/) and config/ are read from the working directory like any user's
 * files, not from beside the code, so they are not copied.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  globSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { BUILD_MARKER } from '../bin/entry.js';
import { buildWeb } from './build-web.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');

/** Files of src/ the code reads beside itself at run time: everything but code and the dashboard's sources. */
export function dataFiles(srcDir: string): string[] {
  return globSync('**/*', { cwd: srcDir, withFileTypes: true })
    .filter((d) => d.isFile() && !/\.tsx?$/.test(d.name))
    .map((d) => relative(srcDir, resolve(srcDir, d.parentPath, d.name)))
    .filter((f) => !f.startsWith('web/'))
    .sort();
}

function compile(outDir: string): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], {
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status ?? r.signal})`);
}

/** Builds into `dist` (default: the checkout's dist/; a bench builds a copy elsewhere). */
export async function build(dist = DIST): Promise<void> {
  const building = `${dist}.building-${process.pid}`;
  const old = `${dist}.old-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  try {
    await buildWeb(join(building, 'web'));
    const src = join(ROOT, 'src');
    for (const f of dataFiles(src)) {
      mkdirSync(dirname(join(building, f)), { recursive: true });
      copyFileSync(join(src, f), join(building, f));
    }
    compile(building);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(
      join(building, BUILD_MARKER),
      `${JSON.stringify({ version: pkg.version, built_at: new Date().toISOString(), node: process.version })}\n`,
    );
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    rmSync(dist, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(building, dist);
  rmSync(old, { recursive: true, force: true });
}

if (import.meta.main) {
  try {
    await build();
    process.stderr.write(`build: ${DIST} complete\n`);
  } catch (err) {
    process.stderr.write(`build: FAILED, no dist/ left behind: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
