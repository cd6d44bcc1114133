/**
 * The API over a week of campus traffic: `/api/stats` and event searches through the real HTTP
 * app (src/serve, fastify inject) over a lake in the real layout — 168 closed hours as the
 * compactor leaves them (one file per log type and hour, with its rollup) and an open hour of
 * writer files — made fast by bench/lake-fixture.ts (the generator's `mixed` scenario through the
 * real engine and writer once, multiplied by DuckDB: new ids, times spread over each hour).
 *
 * The calls are the dashboard's: the overview's stats over the last 15 minutes, hour, day and
 * week (its bucket: ~120 points), and event searches (first page of 100, newest first) over the
 * same windows. Median and p95 of 15 runs after one warm-up, one request at a time.
 *
 * Sizes: SOCSTREAM_BENCH_BIG=1 (`bench --big`): 168 hours × 3 copies of a 100,000-event template =
 * 50.4 M events (generating it takes many minutes on 2 shared cores: set SOCSTREAM_BENCH_WEEK_DIR
 * to keep it and reuse it). Without --big the module is skipped unless SOCSTREAM_BENCH_WEEK_HOURS
 * is set (then 1 copy of a 20,000-event template per hour; quick: 6 hours);
 * SOCSTREAM_BENCH_WEEK_COPIES / _TEMPLATE scale it further. Run alone:
 * `SOCSTREAM_BENCH_BIG=1 node bench/week.bench.ts`.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLakeAccess } from '../src/serve/lake-access.ts';
import { SqliteAlertStore } from '../src/sinks/alert-store-sqlite.ts';
import { bucketSeconds } from '../src/web/time.ts';
import { benchApi } from './api-app.ts';
import { closedDayRollups, HOUR_MS, loadTemplate, weekLake } from './lake-fixture.ts';
import type { BenchRow } from './types.ts';

const BIG = process.env.SOCSTREAM_BENCH_BIG === '1';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const HOURS = Number(process.env.SOCSTREAM_BENCH_WEEK_HOURS ?? (BIG ? 168 : QUICK ? 6 : 24));
const TEMPLATE = Number(process.env.SOCSTREAM_BENCH_WEEK_TEMPLATE ?? (BIG ? 100_000 : 20_000));
const COPIES = Number(process.env.SOCSTREAM_BENCH_WEEK_COPIES ?? (BIG ? 3 : 1));
const RUNS = 15;
/** The rollups a kept lake must have (hour rollups v2 with external pairs; day and hour files of all log types). */
const ROLLUPS_VERSION = 3;
/** A fixed end, so a kept lake is the same lake: the open hour starts here. */
const END_HOUR = Date.parse('2026-12-07T12:00:00Z');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The lake (made, or reused when SOCSTREAM_BENCH_WEEK_DIR holds one of this size). */
async function lakeOf(
  dir: string,
): Promise<{ rows: number; files: number; seconds: number; reused: boolean }> {
  const marker = join(dir, 'lake-made.json');
  const spec = { hours: HOURS, template: TEMPLATE, copies: COPIES, end: END_HOUR };
  if (existsSync(marker)) {
    const made = JSON.parse(readFileSync(marker, 'utf8')) as typeof spec & {
      rollups?: number;
      rows: number;
      files: number;
      seconds: number;
    };
    if (
      JSON.stringify({ ...spec }) ===
      JSON.stringify({ hours: made.hours, template: made.template, copies: made.copies, end: made.end })
    ) {
      // A lake kept from before the current rollups (hour rollups v2, day rollups): the compactor's
      // run adds them, as it does to a deployed lake after an upgrade.
      if (made.rollups !== ROLLUPS_VERSION) {
        const started = performance.now();
        const added = await closedDayRollups(join(dir, 'lake'), END_HOUR);
        const upgradeSeconds = (performance.now() - started) / 1000;
        process.stderr.write(
          `week bench: rollups of the kept lake brought up to date in ${upgradeSeconds.toFixed(0)} s: ${JSON.stringify(added)}\n`,
        );
        Object.assign(made, { rollups: ROLLUPS_VERSION, upgrade: { ...added, seconds: upgradeSeconds } });
        writeFileSync(marker, JSON.stringify(made));
      }
      return { ...made, reused: true };
    }
  }
  rmSync(join(dir, 'lake'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const template = await loadTemplate(dir, TEMPLATE);
  const made = await weekLake(template, join(dir, 'lake'), {
    hours: HOURS,
    endHourMs: END_HOUR,
    copies: COPIES,
    openFiles: 12,
    onHour: (i) => {
      if (i % 24 === 23) process.stderr.write(`week bench: ${i + 1} of ${HOURS} hours written\n`);
    },
  });
  template.close();
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(marker, JSON.stringify({ ...spec, ...made, seconds, rollups: ROLLUPS_VERSION }));
  return { ...made, seconds, reused: false };
}

export async function run(): Promise<BenchRow[]> {
  // Minutes even at its small size: only with --big, or when a size is asked for.
  if (!BIG && process.env.SOCSTREAM_BENCH_WEEK_HOURS === undefined)
    return [
      {
        bench: 'week',
        metric: 'API over a week of campus traffic',
        value: Number.NaN,
        unit: '',
        note: 'skipped: run `npm run bench -- --only week --big` (minutes; docs/benchmarks.md)',
      },
    ];
  const keep = process.env.SOCSTREAM_BENCH_WEEK_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'socstream-bench-week-'));
  const dbDir = mkdtempSync(join(tmpdir(), 'socstream-bench-week-db-'));
  const store = new SqliteAlertStore({ path: join(dbDir, 'alerts.db') });
  try {
    const made = await lakeOf(dir);
    await store.start();
    const lake = await openLakeAccess(join(dir, 'lake'));
    const { app, headers } = await benchApi({ alerts: store, lake });
    // "Now" is half-way through the open hour; windows start on a minute, as the dashboard asks.
    const now = END_HOUR + 30 * 60_000;
    const windows: Array<[string, number]> = [
      ['15 min', 15 * 60_000],
      ['1 h', HOUR_MS],
      ['24 h', 24 * HOUR_MS],
      [HOURS === 168 ? '7 d' : `${HOURS} h`, HOURS * HOUR_MS],
    ];
    const calls: Array<{ metric: string; url: string; target: number }> = [];
    for (const [name, span] of windows) {
      const from = Math.floor((now - span) / 60_000) * 60_000;
      calls.push({
        metric: `GET /api/stats last ${name}`,
        url: `/api/stats?from=${from}&to=${now}&bucket_seconds=${bucketSeconds(from, now)}`,
        target: 300,
      });
    }
    // The overview page's other lake call: the day's top external sources (a scan of the day's
    // events, no rollup answers it), over a day of the lake issue's size.
    const dayFrom = Math.floor((now - 24 * HOUR_MS) / 60_000) * 60_000;
    calls.push({
      metric: 'GET /api/stats/sources external, last 24 h',
      url: `/api/stats/sources?from=${dayFrom}&to=${now}`,
      target: 500,
    });
    for (const [name, span] of windows) {
      const from = Math.floor((now - span) / 60_000) * 60_000;
      calls.push({
        metric: `GET /api/events last ${name}`,
        url: `/api/events?from=${from}&to=${now}&limit=100`,
        target: 1000,
      });
      calls.push({
        metric: `GET /api/events?q= last ${name}`,
        url: `/api/events?from=${from}&to=${now}&q=google&limit=100`,
        target: 1000,
      });
    }
    const load = loadavg()[0];
    const rows: BenchRow[] = [];
    for (const call of calls) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < RUNS + 1; i++) {
        const t0 = performance.now();
        const res = await app.inject({ url: call.url, headers });
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) throw new Error(`${call.url}: ${res.statusCode} ${res.body}`);
        if (i === 0) {
          const body = res.json() as { events?: unknown[]; by_type?: unknown[]; sources?: unknown[] };
          found = (body.events ?? body.by_type ?? body.sources ?? []).length;
        } else times.push(ms);
      }
      times.sort((a, b) => a - b);
      const note = `${(made.rows / 1e6).toFixed(1)} M events, ${made.files.toLocaleString('en')} files over ${HOURS} h + the open hour; ${found} rows answered; median ${quantile(times, 0.5).toFixed(0)} ms of ${RUNS}; load ${load.toFixed(1)}`;
      rows.push({
        bench: 'week',
        metric: `${call.metric} p95`,
        value: Math.round(quantile(times, 0.95)),
        unit: 'ms',
        target: { op: '<=', value: call.target },
        note,
      });
    }
    rows.push({
      bench: 'week',
      metric: 'week lake generated',
      value: made.rows,
      unit: 'events',
      note: `${made.files.toLocaleString('en')} files in ${made.seconds.toFixed(0)} s (${Math.round(made.rows / made.seconds).toLocaleString('en')} events/s)${made.reused ? ', reused from SOCSTREAM_BENCH_WEEK_DIR' : ''}`,
    });
    await app.close();
    lake.close();
    return rows;
  } finally {
    await store.close().catch(() => {});
    rmSync(dbDir, { recursive: true, force: true });
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const r of await run()) process.stdout.write(`${r.metric}: ${r.value} ${r.unit} (${r.note})\n`);
}
