/**
 * The lake disk full (issue 9), through the real store role on the real broker (127.0.0.1:9092):
 * the lake is a 4 MiB tmpfs that a filler file has filled. The role does not die: its lake flushes
 * block and retry with backoff, the role stops consuming (lag grows while more is produced, nothing
 * is committed, no staging file grows on the full disk), `socstream_sink_blocked` is 1 and the lake
 * health check says so. When the filler is removed the same role incarnation resumes by itself and
 * every event reaches the lake, committed to the end. Needs root for `mount -t tmpfs` and the
 * broker; skipped loudly otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema, lakeSchema } from '../../src/config/schema.ts';
import type { BusRecord } from '../../src/core/bus.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { createStoreRole } from '../../src/roles/store.ts';
import { createLakeSink } from '../../src/sinks/parquet/sink.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'socstream-enospc-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], {
  encoding: 'utf8',
});
const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: disk-full test NOT run (needs the broker on 127.0.0.1:9092)'
    : mounted.status === 0
      ? undefined
      : `mount -t tmpfs refused (${mounted.stderr.trim()}): disk-full test NOT run`;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
/** Produced before the disk fills and while it is full. */
const EVENTS_BEFORE = 3000;
const EVENTS_WHILE_FULL = 2000;
const T0 = Date.parse('2018-03-24T17:00:00Z');
const encoder = new TextEncoder();

after(() => {
  if (mounted.status === 0) spawnSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

function fill(path: string): void {
  // Write 64 KiB chunks until the file system refuses: the disk is then really full.
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = Buffer.alloc(0);
  for (;;) {
    try {
      written = Buffer.concat([written, chunk]);
      writeFileSync(path, written);
    } catch {
      return;
    }
  }
}

function records(envs: Envelope[]): BusRecord[] {
  return envs.map((e) => ({
    key: String(e.normalized.src_ip ?? null),
    value: encoder.encode(JSON.stringify(e)),
  }));
}

/** Files under `dir` (recursively) whose name matches. */
function filesMatching(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => pattern.test(f));
}

test('ENOSPC is backpressure: the store role stops consuming, commits nothing, and resumes by itself when space returns', {
  skip: SKIP,
  timeout: 240_000,
}, async () => {
  const bus = new KafkaBus(
    kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-disk-full' }),
  );
  const topic = `diskfull-${randomBytes(5).toString('hex')}`;
  const group = `${topic}-store`;
  await bus.createTopics([{ name: topic, partitions: 2 }]);
  const committed = async () =>
    (await bus.committedOffsets(group, [topic])).reduce((n, o) => n + o.offset, 0n);
  const logger = pino({ level: 'silent' });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const metric = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
    (await m.get()).values.reduce((n, v) => n + v.value, 0);
  const lakeDir = join(mountPoint, 'lake');
  const lake = createLakeSink(
    lakeSchema.parse({
      dir: lakeDir,
      flush_event_count: 500,
      flush_interval_seconds: 1,
      blocked_retry_max_seconds: 1,
    }),
    { logger, telemetry, dataDir: mountPoint },
  );
  const role = createStoreRole({
    bus,
    group,
    eventTopics: [topic],
    lake,
    ctx: { logger, telemetry },
    maxBatchRecords: 250,
  });
  const envs = manyEnvelopes('dns', EVENTS_BEFORE + EVENTS_WHILE_FULL, T0, 1000);
  try {
    await bus.publish(topic, records(envs.slice(0, EVENTS_BEFORE)));
    const filler = join(mountPoint, 'filler');
    fill(filler);
    const freeWhenFull = statfsSync(mountPoint).bavail;

    let failure: Error | null = null;
    const running = role.run().catch((err: Error) => {
      failure = err;
    });
    await role.ready;
    const deadline = Date.now() + 60_000;
    while ((await metric(telemetry.sinkBlocked)) !== 1) {
      assert.equal(failure, null, 'the store role keeps running while the disk is full');
      assert.ok(Date.now() < deadline, 'the lake reported itself blocked');
      await sleep(100);
    }
    const blockedAt = Date.now();
    const health = await lake.healthcheck();
    assert.equal(health.ok, false);
    assert.match(String(health.detail), /full: blocked/);

    // Backpressure: more is produced, nothing more is consumed, nothing is committed.
    const consumedAtBlock = await metric(telemetry.busConsumed);
    await bus.publish(topic, records(envs.slice(EVENTS_BEFORE)));
    await sleep(6000);
    const consumedWhileFull = await metric(telemetry.busConsumed);
    const committedWhileFull = await committed();
    const retries = await metric(telemetry.sinkErrors);
    assert.equal(failure, null, 'the store role is still running');
    assert.equal(committedWhileFull, 0n, 'nothing committed while the lake cannot write');
    assert.equal(consumedWhileFull, consumedAtBlock, 'no batch pulled while blocked');
    assert.ok(consumedWhileFull < EVENTS_BEFORE + EVENTS_WHILE_FULL, 'lag grows: the rest waits on the bus');
    assert.ok(retries >= 3, `retried with backoff (${retries} failed attempts)`);
    // A failed attempt removes its partial staging file: the disk is not filled further.
    assert.ok(statfsSync(mountPoint).bavail >= freeWhenFull, 'no leftover staging data on the full disk');

    rmSync(filler);
    const spaceBack = Date.now();
    const catchUp = Date.now() + 120_000;
    while ((await committed()) < BigInt(envs.length)) {
      assert.equal(failure, null, 'the same role incarnation resumes');
      assert.ok(Date.now() < catchUp, 'the store caught up after space returned');
      await sleep(200);
    }
    const resumedMs = Date.now() - spaceBack;
    assert.equal(await metric(telemetry.sinkBlocked), 0);
    const blockedSeconds = await metric(telemetry.sinkBlockedSeconds);
    assert.ok(blockedSeconds > 5, `blocked ${blockedSeconds} s`);
    assert.equal((await lake.healthcheck()).ok, true);
    await role.stop();
    await running;
    assert.equal(failure, null);
    assert.deepEqual(filesMatching(join(lakeDir, '.staging'), /\.ndjson$/), [], 'no staging file left');
    assert.deepEqual(filesMatching(lakeDir, /\.tmp$/), [], 'no temp Parquet file left');

    const query = await LakeQuery.open({ lakeDir });
    let rows = 0;
    try {
      const ids = new Set(
        (await query.query('select id from events', { maxRows: 1e6 })).rows.map((r) => r[0]),
      );
      rows = ids.size;
      for (const e of envs) assert.ok(ids.has(e.id), `${e.id} lost`);
    } finally {
      query.close();
    }
    process.stderr.write(
      `disk-full (4 MiB tmpfs, Kafka): ${envs.length} events (${EVENTS_BEFORE} before the disk filled, ` +
        `${EVENTS_WHILE_FULL} while full); consumed ${consumedWhileFull} then paused; committed ` +
        `${committedWhileFull} while full for ${Math.round((spaceBack - blockedAt) / 1000)} s; ` +
        `${retries} failed attempts; blocked ${blockedSeconds.toFixed(1)} s in all; caught up ` +
        `${resumedMs} ms after space returned; ${rows} distinct ids in the lake, 0 lost\n`,
    );
  } finally {
    await role.stop().catch(() => {});
    await bus.close();
  }
});
