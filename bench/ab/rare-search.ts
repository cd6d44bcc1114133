import { loadavg } from 'node:os';
import { bothApps, type Side } from './pairs.ts';

/**
 * A text search that matches nothing over a range (the rare-match worst case of GET /api/events),
 * interleaved between two source trees over one lake: per request the status, wall ms, events and
 * whether it answered `partial`; then, on this tree, the cursors followed to the end.
 * Usage: SOCSTREAM_AB_BASE=<worktree> node bench/ab/rare-search.ts <lakeDir> <fromMs> <toMs> [runs] [q]
 */
const [lakeDir, fromArg, toArg, runsArg, qArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const q = qArg ?? 'no-such-text-anywhere';
const apps = await bothApps(lakeDir);
const url = `/api/events?from=${fromArg}&to=${toArg}&limit=100&q=${encodeURIComponent(q)}`;
for (let i = 0; i < runs; i++) {
  for (const side of (i % 2 ? ['new', 'base'] : ['base', 'new']) as Side[]) {
    const { app, headers } = apps[side];
    const t0 = performance.now();
    const res = await app.inject({ url, headers });
    const ms = performance.now() - t0;
    const body = res.statusCode === 200 ? res.json() : null;
    process.stdout.write(
      `${side.padEnd(4)} ${res.statusCode} ${ms.toFixed(0).padStart(6)} ms  events ${body?.events.length ?? '-'}  partial ${body?.partial ?? false}  ${res.statusCode === 200 ? '' : res.body.slice(0, 80)}  load ${loadavg()[0].toFixed(1)}\n`,
    );
  }
}
// This tree, cursors followed to the end: how many requests, the longest, the total.
let cursor: string | null = null;
const walls: number[] = [];
do {
  const t0 = performance.now();
  const res: { statusCode: number; body: string; json: () => { next_cursor: string | null } } =
    await apps.new.app.inject({
      url: `${url}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      headers: apps.new.headers,
    });
  walls.push(performance.now() - t0);
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 200)}`);
  cursor = res.json().next_cursor;
} while (cursor && walls.length < 20);
process.stdout.write(
  `new, to the end: ${walls.length} requests, longest ${Math.max(...walls).toFixed(0)} ms, total ${walls.reduce((a, b) => a + b, 0).toFixed(0)} ms\n`,
);
for (const a of Object.values(apps)) await a.close();
