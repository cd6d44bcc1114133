import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { compactLake } from '../../src/lake/compact.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { planStats, statsRows, statsSql, statsSqlFor } from '../../src/lake/rollup.ts';
import { manyEnvelopes } from './envelopes.ts';
import { writeLake } from './helpers.ts';

const T0 = Date.parse('2018-03-24T17:00:00Z');
const HOUR = 3_600_000;
let dir = '';
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stats(lakeDir: string, from: number, to: number, bucketSeconds: number) {
  const plan = await planStats(lakeDir, { from, to, bucketSeconds });
  const sql = statsSqlFor(plan, { from, to, bucketSeconds });
  assert.ok(sql);
  const lake = await LakeQuery.open({ lakeDir });
  try {
    const out: Record<string, unknown[]> = {};
    for (const [k, q] of Object.entries(sql)) out[k] = (await lake.query(q)).rows;
    return { plan, out };
  } finally {
    lake.close();
  }
}

test('statistics from the rollups of compacted hours equal a scan of their events', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-rollup-'));
  // Three hours of DNS, one event a minute, a replayed batch (duplicates) in the first hour.
  const dns = manyEnvelopes('dns', 180, T0, 60_000, 'r');
  await writeLake(dir, [dns.slice(0, 60), dns.slice(0, 30), dns.slice(60)]);
  const from = T0;
  const to = T0 + 3 * HOUR - 1;
  // Before compaction: every hour is scanned (and the duplicates counted twice).
  const before = await stats(dir, from, to, 600);
  assert.equal(before.plan.rollups.length, 0);
  await compactLake({ lakeDir: dir, nowMs: T0 + 10 * HOUR });
  const after = await stats(dir, from, to, 600);
  assert.equal(after.plan.rollups.length, 3);
  assert.equal(after.plan.events.length, 0);
  // The same window scanned (buckets that are not whole minutes bypass the rollups).
  const scanned = await stats(dir, from, to, 1);
  assert.equal(scanned.plan.rollups.length, 0);
  const total = (rows: unknown[]) => rows.reduce((s: number, r) => s + Number((r as unknown[])[2]), 0);
  assert.equal(total(after.out.by_type), 180);
  assert.equal(total(scanned.out.by_type), 180);
  assert.equal(total(before.out.by_type), 210);
  assert.deepEqual(after.out.top_src, scanned.out.top_src);
  assert.deepEqual(after.out.top_dst, scanned.out.top_dst);
  assert.deepEqual(after.out.direction, scanned.out.direction);
  // A window cutting an hour scans that hour's events and uses the rollups of the whole ones.
  const partial = await stats(dir, T0 + 30 * 60_000, to, 600);
  assert.equal(partial.plan.rollups.length, 2);
  assert.equal(total(partial.out.by_type), 150);
});

test('a late file in a compacted hour makes the hour fall back to a scan until it is compacted again', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-rollup-'));
  await writeLake(dir, [manyEnvelopes('ssh', 30, T0, 60_000, 'a')]);
  await compactLake({ lakeDir: dir, nowMs: T0 + 10 * HOUR });
  await writeLake(dir, [manyEnvelopes('ssh', 5, T0 + 40 * 60_000, 1000, 'late')]);
  const window = { from: T0, to: T0 + HOUR - 1, bucketSeconds: 60 };
  const plan = await planStats(dir, window);
  assert.equal(plan.rollups.length, 0);
  assert.equal(plan.events.length, 2);
  await compactLake({ lakeDir: dir, nowMs: T0 + 10 * HOUR });
  assert.equal((await planStats(dir, window)).rollups.length, 1);
});

test('the one-statement statistics equal the four statements, in the same order', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-rollup-'));
  await writeLake(dir, [
    manyEnvelopes('dns', 150, T0, 60_000, 'o'),
    manyEnvelopes('ssh', 90, T0, 90_000, 'o'),
  ]);
  // The first two hours compacted (rollups), the rest scanned.
  await compactLake({ lakeDir: dir, nowMs: T0 + 10 * HOUR });
  await writeLake(dir, [manyEnvelopes('dns', 20, T0 + 30_000, 60_000, 'late')]);
  for (const [from, bucket] of [
    [T0, 600],
    [T0 + 10 * 60_000, 60],
    [T0, 7],
  ]) {
    const window = { from, to: T0 + 3 * HOUR - 1, bucketSeconds: bucket };
    const { out } = await stats(dir, window.from, window.to, window.bucketSeconds);
    const plan = await planStats(dir, window);
    const sql = statsSql(plan, window);
    assert.ok(sql);
    const lake = await LakeQuery.open({ lakeDir: dir });
    try {
      const one = statsRows((await lake.query(sql)).rows);
      assert.deepEqual(
        one.by_type.map((r) => [r.t, r.log_type, r.n]),
        out.by_type.map((r) => (r as unknown[]).map((v) => (typeof v === 'bigint' ? Number(v) : v))),
      );
      for (const k of ['top_src', 'top_dst', 'direction'] as const)
        assert.deepEqual(
          one[k].map((r) => Object.values(r).map((v) => (typeof v === 'bigint' ? Number(v) : v))),
          out[k].map((r) => (r as unknown[]).map((v) => (typeof v === 'bigint' ? Number(v) : v))),
        );
    } finally {
      lake.close();
    }
  }
});
