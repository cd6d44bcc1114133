import { loadavg } from 'node:os';
import { bothApps, type Side, trees } from './pairs.ts';

/**
 * Interleaved A/B of GET /api/stats (and the external sources) between two source trees: both
 * apps in one process over the same lake, requests alternating (which side goes first alternates
 * too), so both see the same machine load; the first answers must be equal (the whole JSON), then
 * wall and process CPU ms per request (DuckDB's threads included; one request at a time).
 * Windows end at `nowMs` and start on a minute, as the dashboard asks (the week bench's calls).
 * docs/benchmarks.md ("/api/stats over 7 days: listing cache, minute rows") has its figures.
 * Usage: SOCSTREAM_AB_BASE=<worktree> node bench/ab/stats-pairs.ts <lakeDir> <nowMs> [runs]
 */
const [lakeDir, nowArg, runsArg] = process.argv.slice(2);
const now = Number(nowArg);
const runs = Number(runsArg ?? 20);
const apps = await bothApps(lakeDir);
const { bucketSeconds } = await import(`${trees.new}/src/web/time.ts`);
const H = 3_600_000;
const stats = (h: number) => {
  const from = Math.floor((now - h * H) / 60_000) * 60_000;
  return `/api/stats?from=${from}&to=${now}&bucket_seconds=${bucketSeconds(from, now)}`;
};
const urls: Array<[string, string]> = [
  ['stats 7 d', stats(168)],
  ['stats 24 h', stats(24)],
  ['stats 1 h', stats(1)],
  [
    'sources external 24 h',
    `/api/stats/sources?from=${Math.floor((now - 24 * H) / 60_000) * 60_000}&to=${now}`,
  ],
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
        first[side] = res.body;
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
