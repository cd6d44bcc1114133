/**
 * The rollups (hour and day) answer exactly what a scan of the events answers: /api/stats's four
 * statistics and the top external sources, after compaction, with late events, after retention
 * and for hours whose rollup was made by an older version.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rename, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Envelope } from '../../src/core/envelope.ts';
import { compactLake } from '../../src/lake/compact.ts';
import { listingStats } from '../../src/lake/dir-listing.ts';
import { hourPartitions } from '../../src/lake/partitions.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { applyRetention } from '../../src/lake/retention.ts';
import {
  DAY_SPAN,
  externalSourcesSql,
  planStats,
  ROLLUPS_DIR,
  type StatsPlan,
  type StatsWindow,
  spanRollupDir,
  statsRows,
  statsSql,
} from '../../src/lake/rollup.ts';
import { rollupWork } from '../../src/lake/rollup-build.ts';
import { manyEnvelopes } from './envelopes.ts';
import { writeLake } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Day 1 starts here; the lake holds its hours 18–23 and day 2's hours 0–3. */
const D1 = Date.parse('2018-03-24T00:00:00Z');
const D2 = D1 + DAY;
const LATER = D2 + 3 * DAY;
let dir = '';
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Events of three log types with a mix of directions: internal, inbound from public addresses,
 * and (like an auth log's failed logins) no direction but a source outside the home networks.
 */
function events(start: number, hours: number, seed: string): Envelope[] {
  const perHour = 40;
  const out: Envelope[] = [];
  for (const [k, type] of (['dns', 'ssh', 'ssl'] as const).entries()) {
    const list = manyEnvelopes(type, hours * perHour, start + k * 7_000, HOUR / perHour, `${seed}-${type}`);
    list.forEach((e, i) => {
      if (i % 3 === 0) {
        e.normalized.src_ip = `203.0.113.${i % 5}`;
        e.enriched = { ...e.enriched, direction: 'inbound', src_ip_is_private: false, src_in_home: false };
      } else if (i % 7 === 0) {
        e.normalized.src_ip = `198.51.100.${i % 3}`;
        e.enriched = { src_ip_is_private: false, src_in_home: false, event_hour: 0 };
      }
    });
    out.push(...list);
  }
  return out;
}

/** Every event file of the lake, scanned: what the rollups must equal. */
async function scanPlan(lakeDir: string): Promise<StatsPlan> {
  const files: string[] = [];
  for (const { dir: d } of await hourPartitions(lakeDir))
    for (const n of await readdir(d))
      if (n.endsWith('.parquet') && !n.startsWith('.')) files.push(join(d, n));
  return { rollups: [], events: files };
}

async function answers(lakeDir: string, plan: StatsPlan, w: StatsWindow) {
  const lake = await LakeQuery.open({ lakeDir });
  try {
    const sql = statsSql(plan, w);
    const sources = externalSourcesSql(plan, w, 100);
    assert.ok(sql && sources);
    return {
      stats: statsRows((await lake.query(sql, { maxRows: 100_000 })).rows as unknown[][]),
      sources: (await lake.query(sources, { maxRows: 1000 })).rows,
    };
  } finally {
    lake.close();
  }
}

/** The plan of the window now answers exactly what a scan of every event file answers. */
async function assertExact(lakeDir: string, w: StatsWindow, message: string): Promise<StatsPlan> {
  const plan = await planStats(lakeDir, w);
  const got = await answers(lakeDir, plan, w);
  const want = await answers(lakeDir, await scanPlan(lakeDir), w);
  assert.deepEqual(got, want, message);
  assert.ok(want.sources.length > 3 && want.stats.top_src.length > 3, 'the lake has external sources');
  return plan;
}

const dayFiles = (plan: StatsPlan) => plan.rollups.filter((f) => f.includes(`${ROLLUPS_DIR}/.days/`));
const hourFiles = (plan: StatsPlan) => plan.rollups.filter((f) => f.includes(`${ROLLUPS_DIR}/.hours/`));
const WEEK: StatsWindow = { from: D1, to: D2 + DAY - 1, bucketSeconds: 600 };

test('day rollups of closed days answer whole days; the stats and external sources equal a scan', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a'), events(D1 + 20 * HOUR, 2, 'replay').slice(0, 50)]);
  const before = await assertExact(dir, WEEK, 'nothing compacted: a scan');
  assert.equal(before.rollups.length, 0);
  const stats = await compactLake({ lakeDir: dir, nowMs: LATER });
  assert.equal(stats.dayRollups, 2);
  const plan = await assertExact(dir, WEEK, 'two day rollups');
  assert.deepEqual(plan.events, []);
  assert.equal(dayFiles(plan).length, 2);
  assert.equal(plan.rollups.length, 2, 'one file per day, every log type');
  // A window that holds no whole day reads hour rollups and scans its partial hours.
  const partial = await assertExact(
    dir,
    { from: D1 + 19 * HOUR + 30 * 60_000, to: D2 + 2 * HOUR + 5 * 60_000, bucketSeconds: 300 },
    'partial',
  );
  assert.equal(dayFiles(partial).length, 0);
  assert.equal(hourFiles(partial).length, 6, 'one file per whole hour, every log type');
  assert.equal(partial.rollups.length, 6);
  assert.ok(partial.events.length > 0);
  // Buckets that are not whole minutes: everything scanned, the same answer.
  assert.equal((await assertExact(dir, { ...WEEK, bucketSeconds: 45 }, 'seconds')).rollups.length, 0);
  // Nothing left to do: a second run makes no rollup.
  assert.deepEqual(await rollupWork(dir, LATER, 5 * 60_000), { hours: [], spans: [] });
});

test('a late event in a closed day: the day is answered from its hours and the scan of the late hour, then from a new day rollup', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: LATER });
  const oldDay = await readdir(spanRollupDir(dir, DAY_SPAN, D1));
  // Late events for hour 21 of day 1 (a writer file beside the compacted one).
  await writeLake(dir, [events(D1 + 21 * HOUR, 1, 'late').slice(0, 30)]);
  const late = await assertExact(dir, WEEK, 'late file, not compacted yet');
  assert.equal(dayFiles(late).length, 1, 'day 2 only');
  assert.equal(late.events.length, 2, 'the late hour: its compacted file and the late file');
  assert.equal(hourFiles(late).length, 5, "day 1's other hours");
  assert.equal(
    late.rollups.length,
    1 + 5 + 2,
    "day 2's file, day 1's other hours, the late hour's other log types",
  );
  const stats = await compactLake({ lakeDir: dir, nowMs: LATER });
  assert.equal(stats.partitions, 1);
  assert.equal(stats.dayRollups, 1);
  const after = await assertExact(dir, WEEK, 'recompacted');
  assert.equal(dayFiles(after).length, 2);
  const newDay = await readdir(spanRollupDir(dir, DAY_SPAN, D1));
  assert.equal(newDay.length, 1, 'the older day file is deleted');
  assert.notDeepEqual(newDay, oldDay);
});

test('retention: a day that lost hours is answered from the hours kept, then from a day rollup of them', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: LATER });
  // Keep 2 days back from 22:00 on day 3: day 1's hours 18–21 go, 22–23 stay.
  const dropped = await applyRetention({ lakeDir: dir, days: 2, nowMs: D1 + 2 * DAY + 22 * HOUR });
  assert.equal(dropped.partitionsDropped, 3 * 4);
  const plan = await assertExact(dir, WEEK, 'after retention');
  assert.equal(dayFiles(plan).length, 1, "day 1's rollup is gone with its hours");
  const stats = await compactLake({ lakeDir: dir, nowMs: LATER });
  assert.equal(stats.dayRollups, 1);
  assert.equal(dayFiles(await assertExact(dir, WEEK, 'day rollup of the kept hours')).length, 2);
});

test('hours whose rollup is of an older version are scanned, then get a current rollup from the compactor', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: LATER });
  // As an older version left them: hour rollups named rollup_<run>.parquet, no day rollups.
  await rm(join(dir, ROLLUPS_DIR, '.days'), { recursive: true });
  await rm(join(dir, ROLLUPS_DIR, '.hours'), { recursive: true });
  for (const f of await readdir(join(dir, ROLLUPS_DIR), { recursive: true }))
    if (f.includes('rollup_v2_'))
      await rename(join(dir, ROLLUPS_DIR, f), join(dir, ROLLUPS_DIR, f.replace('rollup_v2_', 'rollup_')));
  const old = await assertExact(dir, WEEK, 'older rollups are not read');
  assert.equal(old.rollups.length, 0);
  const work = await rollupWork(dir, LATER, 5 * 60_000);
  assert.equal(work.hours.length, 3 * 10);
  assert.equal(work.spans.length, 0, 'a span waits for its hour rollups');
  const stats = await compactLake({ lakeDir: dir, nowMs: LATER });
  assert.deepEqual(
    [stats.partitions, stats.hourRollups, stats.dayRollups, stats.spanHourRollups],
    [0, 30, 2, 10],
  );
  assert.equal(dayFiles(await assertExact(dir, WEEK, 'backfilled')).length, 2);
  const left = (await readdir(join(dir, ROLLUPS_DIR), { recursive: true })).filter((f) =>
    /\/rollup_\d/.test(f),
  );
  assert.deepEqual(left, [], 'the older files are deleted');
});

test('an open day has no day rollup; its closed hours are answered by their hour files', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  // Now: 02:30 on day 2 — day 1 is closed, day 2 is not (hours 0 and 1 are closed, 2 is open).
  const now = D2 + 2 * HOUR + 30 * 60_000;
  const stats = await compactLake({ lakeDir: dir, nowMs: now });
  assert.deepEqual([stats.dayRollups, stats.spanHourRollups], [1, 8]);
  const plan = await assertExact(dir, { from: D1, to: now, bucketSeconds: 60 }, 'open day');
  assert.equal(dayFiles(plan).length, 1);
  assert.equal(hourFiles(plan).length, 2, 'hours 0 and 1 of day 2');
  assert.equal(plan.rollups.length, 1 + 2);
});

test("hours the window cuts on whole minutes: counts from the hour rollup's minute rows, addresses from a scan", async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: LATER });
  // 19:30 on day 1 to 02:15 on day 2: both end hours are cut on a minute.
  const w = { from: D1 + 19 * HOUR + 30 * 60_000, to: D2 + 2 * HOUR + 15 * 60_000 - 1, bucketSeconds: 300 };
  const cut = await assertExact(dir, w, 'cut on minutes');
  assert.equal(cut.minuteRollups?.length, 6, 'the first and last hours, three log types');
  assert.equal(cut.addressEvents?.length, 6);
  assert.deepEqual(cut.events, []);
  // A start inside a minute: the first hour is scanned whole (its minute rows would overcount).
  const inside = await assertExact(dir, { ...w, from: w.from + 30_000 }, 'cut inside a minute');
  assert.equal(inside.minuteRollups?.length, 3, 'the last hour only');
  assert.equal(inside.events.length, 3);
  // Buckets that are not whole minutes: no rollup at all.
  const seconds = await assertExact(dir, { ...w, bucketSeconds: 45 }, 'second buckets');
  assert.equal(seconds.minuteRollups?.length ?? 0, 0);
});

test("a closed partition's listing is cached while its directory is unchanged; a late file is seen", async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-day-rollup-'));
  await writeLake(dir, [events(D1 + 18 * HOUR, 10, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: LATER });
  // As an hour later: every partition directory last changed an hour ago (listings are cached
  // only for directories unchanged for STABLE_MS).
  const old = new Date(Date.now() - HOUR);
  for (const { dir: d } of await hourPartitions(dir)) await utimes(d, old, old);
  await assertExact(dir, WEEK, 'listed');
  const before = { ...listingStats };
  assert.equal(dayFiles(await assertExact(dir, WEEK, 'from cached listings')).length, 2);
  assert.ok(listingStats.cached - before.cached >= 30, 'the 30 partitions from the cache');
  // Late events for hour 21 of day 1: that directory changed, it is listed again.
  await writeLake(dir, [events(D1 + 21 * HOUR, 1, 'late').slice(0, 30)]);
  const late = await assertExact(dir, WEEK, 'late file seen');
  assert.equal(late.events.length, 2, 'the late hour: its compacted file and the late file');
  assert.equal(dayFiles(late).length, 1, 'day 2 only');
  // Recompacted: the hour's files are replaced (a rename in the directory), the day answered again.
  await compactLake({ lakeDir: dir, nowMs: LATER });
  assert.equal(dayFiles(await assertExact(dir, WEEK, 'recompacted')).length, 2);
});
