import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { partitionStartMs } from '../../src/lake/compact.ts';
import { applyRetention } from '../../src/lake/retention.ts';
import { manyEnvelopes } from './envelopes.ts';
import { writeLake } from './helpers.ts';

const DAY = 24 * 3_600_000;

test('retention drops hour partitions that ended before now - N days, keeps the rest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-retention-'));
  try {
    const now = Date.parse('2026-02-10T12:30:00Z');
    await writeLake(dir, [
      manyEnvelopes('dns', 5, now - 10 * DAY, 1000, 'old'), // 2026-01-31 12:30
      manyEnvelopes('dns', 5, now - 2 * DAY - 2 * 3_600_000, 1000, 'edge'), // 2026-02-08 10:30, ended 11:00
      manyEnvelopes('dns', 5, now - 2 * DAY + 10 * 60_000, 1000, 'inside'), // 2026-02-08 12:40
      manyEnvelopes('ssh', 5, now - 3_600_000, 1000, 'recent'),
    ]);
    const stats = await applyRetention({ lakeDir: dir, days: 2, nowMs: now });
    assert.equal(stats.partitionsDropped, 2);
    assert.equal(stats.partitionsKept, 2);
    const left = (await readdir(dir, { recursive: true })).map(String).filter((p) => p.endsWith('.parquet'));
    assert.equal(left.length, 2);
    assert.ok(left.some((p) => p.startsWith('dns/year=2026/month=02/day=08/hour=12/')));
    assert.ok(left.some((p) => p.startsWith('ssh/year=2026/month=02/day=10/hour=11/')));
    // The emptied day and month directories are gone too; the log type directory stays.
    const dnsDirs = (await readdir(join(dir, 'dns'), { recursive: true })).map(String);
    assert.equal(dnsDirs.includes('year=2026/month=01'), false);
    assert.equal(dnsDirs.includes('year=2026/month=02/day=08/hour=10'), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('partitionStartMs reads the hour from the path and ignores other paths', () => {
  assert.equal(
    partitionStartMs('/l/dns/year=2026/month=02/day=08/hour=10'),
    Date.parse('2026-02-08T10:00:00Z'),
  );
  assert.equal(partitionStartMs('/l/dns/year=2026/month=02'), null);
});
