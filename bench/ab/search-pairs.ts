import { loadavg } from 'node:os';
import { bothApps, type Side } from './pairs.ts';

/**
 * Interleaved A/B of GET /api/events between two source trees: both apps in one process over the
 * same lake, requests alternating (which side goes first alternates too), so both see the same
 * machine load; the first answers are compared (same ids), then wall and process CPU ms per
 * request (DuckDB's threads included; one request at a time). docs/benchmarks.md ("Event search
 * over listed hour files") has its figures.
 * Usage: SOCSTREAM_AB_BASE=<worktree> node bench/ab/search-pairs.ts <lakeDir> <fromMs> <toMs> [runs]
 */
const [lakeDir, fromArg, toArg, runsArg] = process.argv.slice(2);
const from = Number(fromArg);
const to = Number(toArg);
const runs = Number(runsArg ?? 20);
const apps = await bothApps(lakeDir);
const H = 3_600_000;
const span = (h: number) => `from=${Math.max(from, to - h * H)}&to=${to}`;
const urls: Array<[string, string]> = [
  ['15 min, first page', `/api/events?from=${to - 15 * 60_000}&to=${to}&limit=100`],
  ['1 h, first page', `/api/events?${span(1)}&limit=100`],
  ['24 h, first page', `/api/events?${span(24)}&limit=100`],
  ['24 h, oldest first', `/api/events?${span(24)}&limit=100&order=asc`],
  ['24 h, q=google', `/api/events?${span(24)}&q=google&limit=100`],
  ['7 d, first page', `/api/events?${span(168)}&limit=100`],
  ['24 h, log_type=dns', `/api/events?${span(24)}&log_type=dns&limit=100`],
];
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const out: Record<string, unknown>[] = [];
for (const [name, url] of urls) {
  const wall: Record<Side, number[]> = { base: [], new: [] };
  const cpu: Record<Side, number[]> = { base: [], new: [] };
  const first: Record<Side, string> = { base: '', new: '' };
  for (let i = 0; i <= runs; i++) {
    for (const side of (i % 2 ? ['new', 'base'] : ['base', 'new']) as Side[]) {
      const { app, headers } = apps[side];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await app.inject({ url, headers });
      const t = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (res.statusCode !== 200)
        throw new Error(`${side} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
      if (i === 0) {
        first[side] = JSON.stringify(res.json().events.map((e: { id: string }) => e.id));
        continue;
      }
      wall[side].push(t);
      cpu[side].push((c.user + c.system) / 1000);
    }
  }
  const same = first.base === first.new;
  const row = {
    name,
    same,
    base: { p50: q(wall.base, 0.5), p95: q(wall.base, 0.95), cpu50: q(cpu.base, 0.5) },
    new: { p50: q(wall.new, 0.5), p95: q(wall.new, 0.95), cpu50: q(cpu.new, 0.5) },
  };
  out.push(row);
  const f = (x: number) => x.toFixed(0).padStart(6);
  process.stdout.write(
    `${name.padEnd(22)} same=${same}  base p50/p95 ${f(row.base.p50)} ${f(row.base.p95)} cpu ${f(row.base.cpu50)}   new p50/p95 ${f(row.new.p50)} ${f(row.new.p95)} cpu ${f(row.new.cpu50)}  load ${loadavg()[0].toFixed(1)}\n`,
  );
}
for (const a of Object.values(apps)) await a.close();
