/**
 * The analyst's console (issue 17) over a day-sized lake: the API calls each dashboard page makes,
 * median and p95 latency against the goal (the overview and alert pages load in ≤ 500 ms
 * p95). The lake holds 24 hours of five Zeek log types (real WRCCDC records, test/fixtures/lake),
 * written by the lake writer and compacted as the background compactor leaves closed hours (one
 * file per hour, rollups beside); the alert store (SQLite) holds about a thousand alerts over the
 * day, each keeping 100 event ids that are in the lake.
 *
 * The lake is built once and kept in the temp directory (LAKE_CACHE); later runs reuse it.
 * Each call runs RUNS times after one warm-up through fastify's inject (no network), one at a
 * time; the two page rows run the page's calls in parallel, as the browser does, and time the
 * slowest. Run alone: `node bench/console.bench.ts`. SOCSTREAM_BENCH_QUICK=1: a tenth of the events.
 */

import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Envelope } from '../src/core/envelope.ts';
import type { Alert, Level } from '../src/detect/alert.ts';
import { compactLake } from '../src/lake/compact.ts';
import { openLakeAccess } from '../src/serve/lake-access.ts';
import { SqliteAlertStore } from '../src/sinks/alert-store-sqlite.ts';
import { LakeWriter } from '../src/sinks/parquet/writer.ts';
import { HOUR_MS, LOG_TYPES, lakeEnvelopes, START_MS } from '../test/integration/lake-envelopes.ts';
import { benchApi } from './api-app.ts';
import type { BenchRow } from './types.ts';

const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
/** Events per hour of each of the five log types: 24 × 5 × 4,000 = 480,000 events in the day. */
const PER_TYPE_HOUR = QUICK ? 400 : 4_000;
const HOURS = 24;
const RUNS = 15;
/**
 * The day lake is built once per machine and size and kept in the temp directory (writing and
 * compacting it takes minutes on a loaded 2-core machine): a later run reuses it. Bump the version
 * when the lake's layout or the generator changes.
 */
const LAKE_VERSION = 1;
const LAKE_CACHE = join(tmpdir(), `socstream-bench-console-lake-v${LAKE_VERSION}-${PER_TYPE_HOUR}`);
const GOAL_MS = 500;
/** Rules of the bundled pack (rules/), so the rule panel reads real YAML. */
const RULE_IDS = [
  '1ae57d8f-e72b-44d1-8d59-48f9cea0377c',
  '1ca62eb4-05e8-4454-a49d-4261855367f3',
  'd4b180de-0ff2-4621-a2f6-55decb4e0db3',
  '85b6d757-b753-4516-aca8-3bea68d1566c',
  'e7262b3b-c6e9-4ea9-83d6-f2653cdb41b5',
];
const LEVELS: Level[] = ['low', 'medium', 'high', 'critical'];
const IDS_PER_ALERT = 100;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** lakeEnvelopes spans three hours: block k of the day is shifted by k × 3 h. */
function shifted(envelopes: Envelope[], offsetMs: number): Envelope[] {
  for (const e of envelopes) {
    const t = Number(e.normalized.event_time) + offsetMs;
    e.normalized.event_time = t;
    e.normalized.ingest_time = t + 1000;
    e.enriched.event_hour = new Date(t).getUTCHours();
  }
  return envelopes;
}

/** Alerts over a slice of ssh events: 100 consecutive events of one source each. */
function alertsOf(slice: Envelope[], serial: { n: number }): Alert[] {
  const ssh = slice.filter((e) => e.log_type === 'ssh');
  const out: Alert[] = [];
  for (let i = 0; i + IDS_PER_ALERT <= ssh.length; i += IDS_PER_ALERT) {
    const events = ssh.slice(i, i + IDS_PER_ALERT);
    const times = events.map((e) => Number(e.normalized.event_time));
    const n = serial.n++;
    const entity = String(events[0].normalized.src_ip);
    out.push({
      id: `bench-alert-${n}`,
      rule_id: RULE_IDS[n % RULE_IDS.length],
      rule_title: `Bench rule ${n % RULE_IDS.length}`,
      level: LEVELS[n % LEVELS.length],
      tags: ['attack.credential_access', 'attack.t1110'],
      group: { src_ip: entity },
      entity,
      count: IDS_PER_ALERT + (n % 37) * 11,
      first_seen: Math.min(...times),
      last_seen: Math.max(...times),
      event_ids: events.map((e) => e.id),
      summary: `${IDS_PER_ALERT} SSH attempts from ${entity}`,
      status: n % 5 === 0 ? 'acknowledged' : 'new',
      assignee: null,
      created_at: Math.max(...times) + 1000,
    });
  }
  return out;
}

function progress(text: string): void {
  process.stderr.write(`bench console: ${text}\n`);
}

/**
 * Writes the day and compacts it (with `lakeDir` undefined it only generates the day again, for
 * its alerts); returns the number of events and the alerts over them.
 */
async function buildDay(lakeDir: string | undefined): Promise<{ events: number; alerts: Alert[] }> {
  const writer = new LakeWriter({
    dir: lakeDir ?? '',
    flushBufferBytes: 64 * 1024 * 1024,
    flushEventCount: 50_000,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  if (lakeDir) await writer.start();
  const perBlock = PER_TYPE_HOUR * 3;
  const alerts: Alert[] = [];
  const serial = { n: 0 };
  let events = 0;
  // A write resolves once its events are durable (at a flush): write a block, then flush it.
  const pending: Promise<void>[] = [];
  for (let block = 0; block < HOURS / 3; block++) {
    for (let from = 0; from < perBlock; from += 1000) {
      const slice = shifted(
        lakeEnvelopes(perBlock, `console-bench-${block}`, from, Math.min(perBlock, from + 1000)),
        block * 3 * HOUR_MS,
      );
      if (lakeDir) pending.push(writer.write(slice));
      events += slice.length;
      alerts.push(...alertsOf(slice, serial));
    }
    if (!lakeDir) continue;
    // One flush per three hours written (the writer would flush by size and time in a run).
    await writer.flush();
    await Promise.all(pending.splice(0));
    progress(`hours ${block * 3}–${block * 3 + 2} written (${events.toLocaleString('en')} events)`);
  }
  if (!lakeDir) return { events, alerts };
  await writer.stop();
  // As the background compactor leaves a closed hour: one file, duplicates removed, rollups beside.
  await compactLake({ lakeDir, closeAfterMs: 0 });
  progress('compacted');
  return { events, alerts };
}

/** The cached day lake, built first when missing (into a temp name, renamed when complete). */
async function dayLake(): Promise<{ dir: string; events: number; alerts: Alert[]; builtSeconds: number }> {
  const t0 = performance.now();
  if (existsSync(LAKE_CACHE)) {
    const day = await buildDay(undefined);
    progress(`reusing ${LAKE_CACHE}`);
    return { dir: LAKE_CACHE, ...day, builtSeconds: Number.NaN };
  }
  const building = `${LAKE_CACHE}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const day = await buildDay(building);
  writeFileSync(join(building, '.bench-complete'), `${day.events}\n`);
  renameSync(building, LAKE_CACHE);
  return { dir: LAKE_CACHE, ...day, builtSeconds: (performance.now() - t0) / 1000 };
}

interface Call {
  metric: string;
  urls: string[];
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-bench-console-'));
  const store = new SqliteAlertStore({ path: join(dir, 'alerts.db') });
  await store.start();
  const day = await dayLake();
  await store.upsert(day.alerts);
  const lake = await openLakeAccess(day.dir);
  const { app, headers } = await benchApi({ alerts: store, lake, rulePaths: ['rules'] });
  const get = async (url: string) => {
    const res = await app.inject({ url, headers });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, unknown>;
  };

  const from = START_MS;
  const to = START_MS + HOURS * HOUR_MS;
  const range = `from=${from}&to=${to}`;
  // The alert an analyst opens: one from the middle of the day.
  const alert = day.alerts[Math.floor(day.alerts.length / 2)];
  const margin = 15 * 60_000;
  const detail = await get(`/api/alerts/${alert.id}`);
  const firstEvent = (detail.events as Array<{ id: string; event_time: number }>)[0];
  const half = await get(`/api/alerts/${alert.id}/events?limit=50`);
  const bucket = 1200; // the overview's 20-minute bars over 24 h
  const overview = [
    `/api/stats?${range}&bucket_seconds=${bucket}`,
    `/api/stats/sources?${range}`,
    `/api/alerts/groups?by=entity&${range}`,
    `/api/alerts/timeline?${range}&bucket_seconds=${bucket}`,
  ];
  const alertPage = [`/api/alerts/${alert.id}`, `/api/rules/${alert.rule_id}`];
  const calls: Call[] = [
    { metric: 'overview page: its 4 calls in parallel', urls: overview },
    { metric: 'GET /api/stats 24 h', urls: [overview[0]] },
    { metric: 'GET /api/stats/sources external 24 h', urls: [overview[1]] },
    { metric: 'GET /api/alerts/groups by entity 24 h', urls: [overview[2]] },
    { metric: 'GET /api/alerts/timeline 24 h', urls: [overview[3]] },
    { metric: 'alerts list, newest first (50)', urls: [`/api/alerts?${range}&limit=50`] },
    { metric: 'alerts list, sort=level (50)', urls: [`/api/alerts?${range}&limit=50&sort=level`] },
    {
      metric: 'alerts list, sort=count asc (50)',
      urls: [`/api/alerts?${range}&limit=50&sort=count&order=asc`],
    },
    { metric: 'GET /api/alerts/groups by rule 24 h', urls: [`/api/alerts/groups?by=rule&${range}`] },
    { metric: 'alert page: detail + rule in parallel', urls: alertPage },
    { metric: 'GET /api/alerts/:id (100 related events)', urls: [alertPage[0]] },
    {
      metric: 'related events, next page by cursor',
      urls: [`/api/alerts/${alert.id}/events?limit=50&cursor=${String(half.next_cursor)}`],
    },
    {
      metric: "pivot: the entity's events ±15 min",
      urls: [
        `/api/events?src_ip=${alert.entity}&from=${alert.first_seen - margin}&to=${alert.last_seen + margin}&limit=100`,
      ],
    },
    {
      metric: "pivot: the entity's alerts, 24 h",
      urls: [`/api/alerts?entity=${alert.entity}&${range}&limit=50`],
    },
    {
      metric: "pivot: the rule's alerts, 24 h",
      urls: [`/api/alerts?rule_id=${alert.rule_id}&${range}&limit=50`],
    },
    { metric: 'event search, 24 h, first page (100)', urls: [`/api/events?${range}&limit=100`] },
    { metric: 'event search, 24 h, oldest first (100)', urls: [`/api/events?${range}&limit=100&order=asc`] },
    { metric: 'event search, 24 h, text q= (100)', urls: [`/api/events?${range}&q=google&limit=100`] },
    { metric: 'event histogram, 24 h', urls: [`/api/events/histogram?${range}`] },
    { metric: 'event field list, 24 h (sampled)', urls: [`/api/events/fields?${range}`] },
    {
      metric: 'event field list, 1 h (all events)',
      urls: [`/api/events/fields?from=${to - HOUR_MS}&to=${to}`],
    },
    {
      metric: 'event layers (raw/normalized/enriched)',
      urls: [`/api/events/${firstEvent.id}?t=${firstEvent.event_time}`],
    },
  ];
  const note = `${day.events.toLocaleString('en')} events over 24 h (compacted), ${day.alerts.length.toLocaleString('en')} alerts, ${RUNS} runs`;
  const rows: BenchRow[] = [
    {
      bench: 'console',
      metric: 'day lake built (write + compact)',
      value: day.builtSeconds,
      unit: 's',
      note: Number.isNaN(day.builtSeconds)
        ? `reused from an earlier run (${day.dir})`
        : `${day.events.toLocaleString('en')} events, ${LOG_TYPES.length} log types, kept in ${day.dir}`,
    },
  ];
  for (const call of calls) {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const started = performance.now();
      await Promise.all(call.urls.map(get));
      if (i > 0) times.push(performance.now() - started); // the first run warms DuckDB's metadata cache
    }
    times.sort((a, b) => a - b);
    progress(
      `${call.metric}: p50 ${quantile(times, 0.5).toFixed(0)} ms, p95 ${quantile(times, 0.95).toFixed(0)} ms`,
    );
    rows.push({
      bench: 'console',
      metric: `${call.metric} p50`,
      value: quantile(times, 0.5),
      unit: 'ms',
      note,
    });
    rows.push({
      bench: 'console',
      metric: `${call.metric} p95`,
      value: quantile(times, 0.95),
      unit: 'ms',
      target: { op: '<=', value: GOAL_MS },
      note,
    });
  }
  await app.close();
  await store.close();
  lake.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

if (import.meta.main) {
  for (const r of await run())
    process.stdout.write(`${r.metric}: ${r.value.toFixed(1)} ${r.unit} (${r.note})\n`);
}
