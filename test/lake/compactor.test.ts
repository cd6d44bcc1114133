import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, test } from 'node:test';
import { pino } from 'pino';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { hourPartitions } from '../../src/lake/compact.ts';
import { createCompactor } from '../../src/lake/compactor.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { LakeWriter } from '../../src/sinks/parquet/writer.ts';
import { manyEnvelopes } from './envelopes.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
const HOUR = 3_600_000;
/** Closed hours (long past): the background compactor dedupes them completely. */
const T0 = Date.parse('2018-03-24T17:00:00Z');
let dir = '';
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lakeCounts(lakeDir: string): Promise<{ rows: number; distinct: number }> {
  const lake = await LakeQuery.open({ lakeDir });
  try {
    const [[rows, distinct]] = (await lake.query('select count(*), count(distinct id) from events'))
      .rows as number[][];
    return { rows, distinct };
  } finally {
    lake.close();
  }
}

test('compaction under a running writer, SIGKILLed in the middle, loses and duplicates nothing', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compactor-'));
  const writer = new LakeWriter({
    dir,
    flushBufferBytes: 0,
    flushEventCount: 0,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  await writer.start();
  // 40 batches over two closed hours; every fifth batch is written twice (a replay).
  const all = manyEnvelopes('dns', 4000, T0, 1800, 'kill');
  let writing = true;
  const written = (async () => {
    for (let b = 0; b < 40; b++) {
      const batch = all.slice(b * 100, (b + 1) * 100);
      for (let copy = 0; copy < (b % 5 === 0 ? 2 : 1); copy++) {
        const done = writer.write(batch);
        await writer.flush();
        await done;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    writing = false;
  })();
  // Compactions run beside the writer; every other one is SIGKILLed part-way.
  let killed = 0;
  for (let round = 0; writing || round < 2; round++) {
    const child = spawn(process.execPath, [MAIN, 'lake', 'compact', '--lake', dir], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    if (round % 2 === 0) {
      // Anywhere from start-up to the end of the merge: `lake compact` on this small lake takes about a second.
      await new Promise((r) => setTimeout(r, 300 + ((round * 173) % 900)));
      if (child.kill('SIGKILL')) killed++;
    }
    await exited;
  }
  await written;
  await writer.stop();
  assert.ok(killed > 0);
  // What the crashes left (temp files, stage directories, locks) is cleaned or ignored; a last
  // background-compactor run settles the lake.
  const compactor = createCompactor({
    lakeDir: dir,
    logger: pino({ level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  await compactor.runOnce();
  await compactor.runOnce();
  assert.deepEqual(await lakeCounts(dir), { rows: 4000, distinct: 4000 });
  for (const { dir: partition } of await hourPartitions(dir)) {
    const files = (await readdir(partition)).filter((n) => n.endsWith('.parquet'));
    assert.equal(files.length, 1, `${partition}: ${files.join(', ')}`);
  }
});

test('the background compactor compacts closed hours, bounds the open hour, and reports lag and files', async () => {
  dir = await mkdtemp(join(tmpdir(), 'socstream-compactor-'));
  const telemetry = createTelemetry({ defaultMetrics: false });
  const writer = new LakeWriter({
    dir,
    flushBufferBytes: 0,
    flushEventCount: 0,
    flushIntervalMs: 0,
    maxPendingFlushes: 1,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  await writer.start();
  const now = Date.now();
  // Each set inside one hour whatever the clock says (a set across an hour boundary is two partitions).
  const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR;
  const open = manyEnvelopes('ssh', 60, Math.max(hourOf(now), now - 1000), 1, 'open');
  const closed = manyEnvelopes('ssh', 60, hourOf(now - 5 * HOUR) + 60_000, 1000, 'closed');
  for (let i = 0; i < 6; i++) {
    const done = writer.write([...open.slice(i * 10, i * 10 + 10), ...closed.slice(i * 10, i * 10 + 10)]);
    await writer.flush();
    await done;
  }
  await writer.stop();
  const compactor = createCompactor({
    lakeDir: dir,
    openHourMaxFiles: 4,
    maxLagMs: 0,
    logger: pino({ level: 'silent' }),
    telemetry,
  });
  // Before: six files in each hour.
  await compactor.runOnce();
  const metrics = await telemetry.registry.getMetricsAsJSON();
  const value = (name: string, labels: Record<string, string> = {}) =>
    metrics
      .find((m) => m.name === name)
      ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  assert.equal(value('socstream_lake_files'), 2);
  assert.equal(value('socstream_lake_partition_files_max', { hour: 'closed' }), 1);
  assert.equal(value('socstream_lake_partition_files_max', { hour: 'open' }), 1);
  assert.equal(value('socstream_lake_compaction_lag_seconds'), 0);
  assert.equal((await compactor.healthcheck()).ok, true);
  await compactor.stop();
});
