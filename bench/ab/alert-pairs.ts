import { loadavg } from 'node:os';
import { bothApps, type Side } from './pairs.ts';

/**
 * Interleaved A/B of the alert page's calls between two source trees over a lake (as
 * search-pairs.ts): an alert keeping 100 ids of one log type's events found 5–6 h before `endMs`.
 * Usage: SOCSTREAM_AB_BASE=<worktree> node bench/ab/alert-pairs.ts <lakeDir> <endMs> [runs]
 * AB_LOG_TYPE (default ssh) and AB_RULE (the alert's rule id; default the DNS rule 1ae57d8f, whose
 * log-type hint is dns: with ssh events the hint is wrong and every log type is read too).
 */
const [lakeDir, endArg, runsArg] = process.argv.slice(2);
const end = Number(endArg);
const runs = Number(runsArg ?? 10);
const apps = await bothApps(lakeDir, true);
const H = 3_600_000;
// 200 events of one source 5 h before the end: the alert keeps 100 of them, like the detector.
const probe = await apps.new.app.inject({
  url: `/api/events?from=${end - 6 * H}&to=${end - 5 * H}&limit=200&log_type=${process.env.AB_LOG_TYPE ?? 'ssh'}`,
  headers: apps.new.headers,
});
const events = probe.json().events as Array<{ id: string; event_time: number; src_ip: string }>;
const kept = events.slice(0, 100);
const times = kept.map((e) => e.event_time);
const alert = {
  id: 'ab-alert',
  rule_id: process.env.AB_RULE ?? '1ae57d8f-e72b-44d1-8d59-48f9cea0377c',
  rule_title: 'AB',
  level: 'high',
  tags: [],
  group: { src_ip: kept[0].src_ip },
  entity: kept[0].src_ip,
  count: 100,
  first_seen: Math.min(...times),
  last_seen: Math.max(...times),
  event_ids: kept.map((e) => e.id),
  summary: '',
  status: 'new',
  assignee: null,
  created_at: Date.now(),
};
for (const a of Object.values(apps)) await a.store.upsert([alert]);
const half = apps.new.app.inject({ url: `/api/alerts/ab-alert/events?limit=50`, headers: apps.new.headers });
const cursor = (await half).json().next_cursor;
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const calls: Array<[string, string[]]> = [
  ['alert page (detail + rule)', ['/api/alerts/ab-alert', `/api/rules/${alert.rule_id}`]],
  ['alert detail (100 events)', ['/api/alerts/ab-alert']],
  ['related next page', [`/api/alerts/ab-alert/events?limit=50&cursor=${cursor}`]],
  ['event layers ?t=', [`/api/events/${kept[0].id}?t=${kept[0].event_time}`]],
];
for (const [name, urls] of calls) {
  const wall: Record<Side, number[]> = { base: [], new: [] };
  const n: Record<Side, number> = { base: 0, new: 0 };
  for (let i = 0; i <= runs; i++) {
    for (const side of (i % 2 ? ['new', 'base'] : ['base', 'new']) as Side[]) {
      const { app, headers } = apps[side];
      const t0 = performance.now();
      const res = await Promise.all(urls.map((url) => app.inject({ url, headers })));
      const t = performance.now() - t0;
      for (const r of res)
        if (r.statusCode !== 200) throw new Error(`${side} ${name}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      if (i === 0) {
        n[side] = (res[0].json().events ?? []).length;
        continue;
      }
      wall[side].push(t);
    }
  }
  const f = (x: number) => x.toFixed(0).padStart(6);
  process.stdout.write(
    `${name.padEnd(28)} events ${n.base}/${n.new}  base p50/p95 ${f(q(wall.base, 0.5))} ${f(q(wall.base, 0.95))}   new p50/p95 ${f(q(wall.new, 0.5))} ${f(q(wall.new, 0.95))}  load ${loadavg()[0].toFixed(1)}\n`,
  );
}
for (const a of Object.values(apps)) await a.close();
