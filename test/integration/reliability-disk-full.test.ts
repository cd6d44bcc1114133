/**
 * The lake disk full (issue 9): the store role writes its lake to a 2 MiB tmpfs that a filler file
 * has filled. The lake's staging write (or its Parquet flush, after retries) fails with ENOSPC, the
 * role fails and commits nothing (the records stay on the bus: backpressure, no loss);
 * when space returns, the next incarnation of the role (what a supervisor restart does) writes
 * every event and commits to the end. Needs root for `mount -t tmpfs`; skipped loudly otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { MemoryBus } from '../../src/bus/memory.ts';
import { lakeSchema } from '../../src/config/schema.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { createTelemetry } from '../../src/metrics/telemetry.ts';
import { createStoreRole } from '../../src/roles/store.ts';
import { lakeSinkDefinition } from '../../src/sinks/parquet/sink.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'socstream-enospc-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], {
  encoding: 'utf8',
});
const SKIP =
  mounted.status === 0
    ? undefined
    : `mount -t tmpfs refused (${mounted.stderr.trim()}): disk-full test NOT run`;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const EVENTS = 1500;
const T0 = Date.parse('2018-03-24T17:00:00Z');
const encoder = new TextEncoder();

after(() => {
  if (!SKIP) spawnSync('umount', [mountPoint]);
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

async function committed(bus: MemoryBus, group: string, topics: string[]): Promise<bigint> {
  return (await bus.committedOffsets(group, topics)).reduce((n, o) => n + o.offset, 0n);
}

let bus: MemoryBus;
const topics = ['events.network'];
before(async () => {
  bus = new MemoryBus({ queueCapacity: 100_000 });
  await bus.createTopics([{ name: 'events.network', partitions: 2 }]);
});

function storeRole() {
  const logger = pino({ level: 'silent' });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const lake = lakeSinkDefinition.create(
    lakeSchema.parse({ dir: join(mountPoint, 'lake'), flush_event_count: 500, flush_interval_seconds: 1 }),
    { logger, telemetry, dataDir: mountPoint },
  );
  return createStoreRole({ bus, group: 'store', eventTopics: topics, lake, ctx: { logger, telemetry } });
}

test('ENOSPC: nothing is committed while the disk is full; once space returns every event lands', {
  skip: SKIP,
}, async () => {
  const envs = manyEnvelopes('dns', EVENTS, T0, 1000);
  await bus.publish(
    'events.network',
    envs.map((e) => ({ key: String(e.normalized.src_ip ?? null), value: encoder.encode(JSON.stringify(e)) })),
  );
  const filler = join(mountPoint, 'filler');
  fill(filler);

  const full = storeRole();
  const failure = await full.run().then(
    () => null,
    (err: Error & { code?: string }) => err,
  );
  assert.ok(failure, 'the store role fails while the lake cannot be written');
  // The staging write fails first (ENOSPC as is); a failing Parquet flush says SOC_SINK_UNAVAILABLE.
  assert.ok(
    failure.code === 'ENOSPC' ||
      (failure.code === 'SOC_SINK_UNAVAILABLE' && /ENOSPC/.test(String(failure.cause))),
    String(failure),
  );
  await full.stop().catch(() => {});
  const whileFull = await committed(bus, 'store', topics);
  assert.ok(whileFull < BigInt(EVENTS), `committed ${whileFull} of ${EVENTS} with the disk full`);

  rmSync(filler);
  const recovered = storeRole();
  const running = recovered.run();
  const deadline = Date.now() + 120_000;
  while ((await committed(bus, 'store', topics)) < BigInt(EVENTS)) {
    assert.ok(Date.now() < deadline, 'the store caught up after space returned');
    await sleep(100);
  }
  await recovered.stop();
  await running;
  const lake = await LakeQuery.open({ lakeDir: join(mountPoint, 'lake') });
  try {
    const ids = new Set((await lake.query('select id from events', { maxRows: 1e6 })).rows.map((r) => r[0]));
    for (const e of envs) assert.ok(ids.has(e.id), `${e.id} lost`);
  } finally {
    lake.close();
  }
  process.stderr.write(
    `disk-full: ${whileFull} of ${EVENTS} committed while full; all ${EVENTS} after space returned\n`,
  );
});
