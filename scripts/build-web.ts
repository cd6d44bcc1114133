import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles the dashboard (src/web) into dist/web: index.html + assets/app-<hash>.js and .css
 * (uPlot's CSS included). Everything is served by socstream itself: no CDN, no outside request.
 * Content-hashed names let the server cache assets forever while a rebuild is picked up at once.
 */
export const WEB_SRC = resolve(import.meta.dirname, '../src/web');
export const WEB_OUT = resolve(import.meta.dirname, '../dist/web');

export async function buildWeb(outDir: string = WEB_OUT): Promise<{ js: string; css: string }> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: [join(WEB_SRC, 'main.tsx')],
    bundle: true,
    outdir: join(outDir, 'assets'),
    entryNames: 'app-[hash]',
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js || !css) throw new Error(`build-web: expected a .js and a .css output, got ${outputs.join(', ')}`);
  const html = (await readFile(join(WEB_SRC, 'index.html'), 'utf8'))
    .replace('/assets/app.css', `/assets/${css}`)
    .replace('/assets/app.js', `/assets/${js}`);
  await writeFile(join(outDir, 'index.html'), html);
  return { js, css };
}

if (import.meta.main) {
  const { js, css } = await buildWeb();
  process.stderr.write(`dashboard built: ${WEB_OUT} (assets/${js}, assets/${css})\n`);
}
