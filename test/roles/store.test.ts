import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { MemoryBus } from '../../src/bus/memory.ts';
import { lakeSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { createStoreRole } from '../../src/roles/store.ts';
import { SqliteAlertStore } from '../../src/sinks/alert-store-sqlite.ts';
import { lakeSinkDefinition } from '../../src/sinks/parquet/sink.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { makeAlert } from '../sinks/alert-store-contract.ts';

const T0 = Date.parse('2018-03-24T17:00:00Z');
const encoder = new TextEncoder();
let dir = '';
afterEach(() => rm(dir, { recursive: true, force: true }));

function records(envs: Envelope[]) {
  return envs.map((e) => ({
    key: String(e.normalized.src_ip ?? null),
    value: encoder.encode(JSON.stringify(e)),
  }));
}

async function committed(bus: MemoryBus, group: string, topics: string[]): Promise<bigint> {
  return (await bus.committedOffsets(group, topics)).reduce((n, o) => n + o.offset, 0n);
}

async function setup(lakeOverrides: Record<string, unknown>) {
  dir = await mkdtemp(join(tmpdir(), 'socstream-store-'));
  const logger = pino({ level: 'silent' });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const bus = new MemoryBus({ queueCapacity: 100_000 });
  await bus.createTopics([
    { name: 'events.network', partitions: 3 },
    { name: 'events.auth', partitions: 2 },
    { name: 'alerts', partitions: 1 },
  ]);
  const lakeConfig = lakeSchema.parse({ dir: join(dir, 'lake'), ...lakeOverrides });
  const lake = lakeSinkDefinition.create(lakeConfig, { logger, telemetry, dataDir: dir });
  const alertStore = new SqliteAlertStore({ path: join(dir, 'alerts.db') });
  const role = createStoreRole({
    bus,
    group: 'store',
    eventTopics: ['events.network', 'events.auth'],
    alertsTopic: 'alerts',
    alertStore,
    lake,
    ctx: { logger, telemetry },
    maxBatchRecords: 50,
  });
  return { bus, lake, role, telemetry, lakeDir: lakeConfig.dir, alertStore };
}

test('store role: events land in the lake, alerts in the store, offsets committed to the end', async () => {
  const { bus, role, lakeDir, telemetry } = await setup({
    flush_event_count: 100,
    flush_interval_seconds: 1,
  });
  await bus.publish('events.network', records(manyEnvelopes('dns', 250, T0, 30_000)));
  await bus.publish('events.auth', records(manyEnvelopes('ssh', 40, T0, 1000)));
  const alert = makeAlert(1);
  await bus.publish('alerts', [
    { key: alert.id, value: encoder.encode(JSON.stringify(alert)) },
    { key: alert.id, value: encoder.encode(JSON.stringify({ ...alert, count: 9 })) },
    { key: 'x', value: encoder.encode('not json') },
  ]);
  const running = role.run();
  const topics = ['events.network', 'events.auth', 'alerts'];
  while ((await committed(bus, 'store', topics)) < 293n) await sleep(50);
  await role.stop();
  await running;
  const lake = await LakeQuery.open({ lakeDir });
  try {
    assert.deepEqual((await lake.query('select log_type, count(*) from events group by 1 order by 1')).rows, [
      ['dns', 250],
      ['ssh', 40],
    ]);
    assert.deepEqual((await lake.query('select count(distinct id) from events')).rows, [[290]]);
  } finally {
    lake.close();
  }
  const store = new SqliteAlertStore({ path: join(dir, 'alerts.db') });
  await store.start();
  assert.equal((await store.get(alert.id))?.count, 9);
  await store.close();
  const rejects = await telemetry.rejects.get();
  assert.equal(rejects.values.find((v) => v.labels.reason === 'store_bad_record')?.value, 1);
});

test('store role: nothing is committed before the lake renamed the files', async () => {
  // No flush condition at all: the events sit in the lake buffer until an explicit flush.
  const { bus, role, lake } = await setup({
    flush_event_count: 0,
    flush_buffer_mb: 0,
    flush_interval_seconds: 0,
  });
  await bus.publish('events.network', records(manyEnvelopes('dns', 120, T0, 1000)));
  const running = role.run();
  await sleep(500);
  assert.equal(await committed(bus, 'store', ['events.network']), 0n);
  await lake.flush();
  const deadline = Date.now() + 10_000;
  while ((await committed(bus, 'store', ['events.network'])) < 120n && Date.now() < deadline) await sleep(20);
  assert.equal(await committed(bus, 'store', ['events.network']), 120n);
  await role.stop();
  await running;
});

test('store role: a lake write that fails for good fails the role even when no further batch arrives', async () => {
  const { bus, role, lakeDir } = await setup({ flush_event_count: 0, flush_interval_seconds: 1 });
  // A plain file where the dns directory should be: every dns flush fails (not a storage-full error).
  await mkdir(lakeDir, { recursive: true });
  await writeFile(join(lakeDir, 'dns'), 'in the way');
  await bus.publish('events.network', records(manyEnvelopes('dns', 60, T0, 1000)));
  await assert.rejects(role.run(), /store role stopped: lake flush of dns failed/);
  assert.equal(await committed(bus, 'store', ['events.network']), 0n);
  await role.stop();
});
