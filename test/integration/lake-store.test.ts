/**
 * The store role on the real broker (npm run kafka:start):
 * 1. 200,000 events of five log types over three hours → the lake: right partitions, row counts
 *    per type and hour, `socstream query` agrees, hyparquet (an independent reader) reads the files.
 * 2. Crash test: the store role in a child process, SIGKILLed mid-stream five times and restarted;
 *    afterwards every produced id is in the lake, and `socstream lake compact` removes the
 *    duplicates the uncommitted batches left.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema, lakeSchema } from '../../src/config/schema.ts';
import type { BusRecord } from '../../src/core/bus.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { createStoreRole } from '../../src/roles/store.ts';
import { lakeSinkDefinition } from '../../src/sinks/parquet/sink.ts';
import { parquetFiles, readParquetRows } from '../lake/read-parquet.ts';
import { HOUR_MS, LOG_TYPES, lakeEnvelopes, START_MS, topicOf } from './lake-envelopes.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: lake/store integration NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const CHILD = new URL('./lake-store-child.ts', import.meta.url).pathname;
const kafkaConfig = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-lake-test' });
const encoder = new TextEncoder();
const PUBLISH_SLICE = 2_000;

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function toRecord(env: Envelope): BusRecord {
  return { key: String(env.normalized.src_ip ?? ''), value: encoder.encode(JSON.stringify(env)) };
}

/** Publishes events [from, to) of each type; returns the ids per log type. */
async function publishRange(
  bus: KafkaBus,
  topics: { network: string; auth: string },
  perType: number,
  runId: string,
  from: number,
  to: number,
  ids: Map<string, Set<string>>,
): Promise<void> {
  for (let start = from; start < to; start += PUBLISH_SLICE / LOG_TYPES.length) {
    const envs = lakeEnvelopes(perType, runId, start, Math.min(to, start + PUBLISH_SLICE / LOG_TYPES.length));
    const byTopic = new Map<string, BusRecord[]>();
    for (const env of envs) {
      ids.get(env.log_type)?.add(env.id);
      const topic = topicOf(env.log_type, topics);
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push(toRecord(env));
    }
    await Promise.all([...byTopic].map(([topic, records]) => bus.publish(topic, records)));
  }
}

async function committedTotal(bus: KafkaBus, group: string, topics: string[]): Promise<bigint> {
  return (await bus.committedOffsets(group, topics)).reduce(
    (n, o) => n + (o.offset > 0n ? o.offset : 0n),
    0n,
  );
}

async function endTotal(bus: KafkaBus, topics: string[]): Promise<bigint> {
  return (await bus.endOffsets(topics)).reduce((n, o) => n + o.offset, 0n);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function socstream(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
}

function newIdSets(): Map<string, Set<string>> {
  return new Map(LOG_TYPES.map((t) => [t, new Set<string>()]));
}

describe('lake + store role on Kafka', { skip: SKIP }, () => {
  let bus: KafkaBus;
  const createdTopics: string[] = [];
  const dirs: string[] = [];

  before(async () => {
    bus = new KafkaBus(kafkaConfig);
  });
  after(async () => {
    await bus.deleteTopics(createdTopics).catch(() => {});
    await bus.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function newTopics(): Promise<{ network: string; auth: string }> {
    const topics = { network: unique('lake-it-network'), auth: unique('lake-it-auth') };
    await bus.createTopics([
      { name: topics.network, partitions: 3 },
      { name: topics.auth, partitions: 2 },
    ]);
    createdTopics.push(topics.network, topics.auth);
    return topics;
  }

  test('200,000 events over five log types and three hours land in the right partitions, complete', async () => {
    const PER_TYPE = 40_000;
    const topics = await newTopics();
    const topicList = [topics.network, topics.auth];
    const dir = await mkdtemp(join(tmpdir(), 'socstream-lake-it-'));
    dirs.push(dir);
    const runId = unique('run');
    const ids = newIdSets();
    const started = Date.now();
    await publishRange(bus, topics, PER_TYPE, runId, 0, PER_TYPE, ids);
    const publishedMs = Date.now() - started;

    const logger = pino({ level: 'warn' });
    const telemetry = createTelemetry({ defaultMetrics: false });
    const lakeDir = join(dir, 'lake');
    const lake = lakeSinkDefinition.create(
      lakeSchema.parse({ dir: lakeDir, flush_event_count: 20_000, flush_interval_seconds: 2 }),
      { logger, telemetry, dataDir: dir },
    );
    const group = unique('lake-it-store');
    const role = createStoreRole({ bus, group, eventTopics: topicList, lake, ctx: { logger, telemetry } });
    const running = role.run();
    const total = BigInt(PER_TYPE * LOG_TYPES.length);
    await waitFor(
      async () => (await committedTotal(bus, group, topicList)) >= total,
      300_000,
      'all offsets committed',
    );
    await role.stop();
    await running;
    const storedMs = Date.now() - started - publishedMs;
    process.stderr.write(
      `lake-store: published 200,000 in ${publishedMs} ms, stored + committed in ${storedMs} ms\n`,
    );

    // Partitions: each type has exactly the three hours, named by event time (UTC).
    const files = await parquetFiles(lakeDir);
    const hours = ['hour=10', 'hour=11', 'hour=12'];
    for (const type of LOG_TYPES) {
      const dirsOfType = new Set(
        files.filter((f) => f.startsWith(`${type}/`)).map((f) => f.split('/').slice(0, 5).join('/')),
      );
      assert.deepEqual(
        [...dirsOfType].sort(),
        hours.map((h) => `${type}/year=2026/month=01/day=31/${h}`),
      );
    }

    const query = await LakeQuery.open({ lakeDir });
    try {
      const perType = await query.query(
        'select log_type, count(*), count(distinct id) from events group by 1 order by 1',
      );
      assert.deepEqual(
        perType.rows,
        [...LOG_TYPES].sort().map((t) => [t, PER_TYPE, PER_TYPE]),
      );
      // Every event is in the partition of its own hour.
      const misplaced = await query.query(
        'select count(*) from events where hour(event_time) <> hour or day(event_time) <> day',
      );
      assert.deepEqual(misplaced.rows, [[0]]);
      const perHour = await query.query('select hour, count(*) from conn group by 1 order by 1');
      const expected = [0, 1, 2].map((h) => {
        let n = 0;
        for (let i = 0; i < PER_TYPE; i++) {
          const t = START_MS + Math.floor((i * 3 * HOUR_MS) / PER_TYPE);
          if (Math.floor((t - START_MS) / HOUR_MS) === h) n++;
        }
        return [10 + h, n];
      });
      assert.deepEqual(perHour.rows, expected);
    } finally {
      query.close();
    }

    const cli = socstream('query', 'select count(*) as n from conn', '--lake', lakeDir, '--format', 'json');
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), [{ n: PER_TYPE }]);

    // hyparquet reads every conn file and finds exactly the produced conn ids.
    const connIds = new Set<string>();
    for (const f of files.filter((x) => x.startsWith('conn/'))) {
      for (const row of await readParquetRows(join(lakeDir, f))) connIds.add(row.id as string);
    }
    assert.equal(connIds.size, PER_TYPE);
    for (const id of ids.get('conn') ?? []) assert.ok(connIds.has(id));
    // …and one file of every other type.
    for (const type of LOG_TYPES) {
      const first = files.find((x) => x.startsWith(`${type}/`));
      assert.ok(first);
      const rows = await readParquetRows(join(lakeDir, first));
      assert.ok(rows.length > 0);
      assert.ok(rows.every((r) => r.log_type === type && ids.get(type)?.has(r.id as string)));
    }
  });

  test('SIGKILL mid-stream five times: every id reaches the lake; compaction removes the duplicates', async () => {
    const PER_TYPE = 10_000;
    const WAVES = 5;
    const topics = await newTopics();
    const topicList = [topics.network, topics.auth];
    const dir = await mkdtemp(join(tmpdir(), 'socstream-lake-crash-'));
    dirs.push(dir);
    const lakeDir = join(dir, 'lake');
    const runId = unique('crash');
    const ids = newIdSets();
    const group = unique('lake-crash-store');
    const settings = {
      group,
      topics: topicList,
      lake: { dir: lakeDir, flush_event_count: 2_500, flush_interval_seconds: 1, max_pending_flushes: 2 },
      maxBatchRecords: 500,
    };
    const spawnStore = (): ChildProcess =>
      spawn(process.execPath, [CHILD], {
        env: { ...process.env, SOCSTREAM_TEST_STORE: JSON.stringify(settings) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const perWave = PER_TYPE / WAVES;
    const killedAt: Array<{ committed: bigint; end: bigint }> = [];
    for (let wave = 0; wave < WAVES; wave++) {
      await publishRange(bus, topics, PER_TYPE, runId, wave * perWave, (wave + 1) * perWave, ids);
      const before = await committedTotal(bus, group, topicList);
      const child = spawnStore();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Kill as soon as this incarnation has committed something: the rest of the wave is in flight.
      await waitFor(
        async () => (await committedTotal(bus, group, topicList)) > before,
        120_000,
        `commit progress in wave ${wave}`,
      );
      child.kill('SIGKILL');
      await exited;
      killedAt.push({
        committed: await committedTotal(bus, group, topicList),
        end: await endTotal(bus, topicList),
      });
    }
    for (const k of killedAt)
      assert.ok(k.committed < k.end, `killed mid-stream (${k.committed} of ${k.end})`);

    // A last incarnation finishes the backlog and stops cleanly.
    const final = spawnStore();
    const finalExit = new Promise<number | null>((resolve) => final.once('exit', (code) => resolve(code)));
    const total = BigInt(PER_TYPE * LOG_TYPES.length);
    await waitFor(async () => (await committedTotal(bus, group, topicList)) >= total, 300_000, 'the backlog');
    final.kill('SIGTERM');
    assert.equal(await finalExit, 0);

    const lake = await LakeQuery.open({ lakeDir });
    let rowsBefore = 0;
    try {
      const [[rows, distinct]] = (await lake.query('select count(*), count(distinct id) from events'))
        .rows as number[][];
      rowsBefore = rows;
      assert.equal(distinct, PER_TYPE * LOG_TYPES.length);
      const stored = new Set(
        (await lake.query('select id from events', { maxRows: 10_000_000 })).rows.map((r) => r[0]),
      );
      for (const [type, set] of ids) for (const id of set) assert.ok(stored.has(id), `${type} ${id} missing`);
    } finally {
      lake.close();
    }
    process.stderr.write(
      `lake-store crash: ${killedAt.map((k) => `${k.committed}/${k.end}`).join(', ')} committed at the kills; ` +
        `${rowsBefore - PER_TYPE * LOG_TYPES.length} duplicate rows before compaction\n`,
    );

    const compact = socstream('lake', 'compact', '--lake', lakeDir, '--include-open-hours');
    assert.equal(compact.status, 0, compact.stderr);
    assert.equal(JSON.parse(compact.stdout).duplicatesDropped, rowsBefore - PER_TYPE * LOG_TYPES.length);
    const after = await LakeQuery.open({ lakeDir });
    try {
      assert.deepEqual((await after.query('select count(*), count(distinct id) from events')).rows, [
        [PER_TYPE * LOG_TYPES.length, PER_TYPE * LOG_TYPES.length],
      ]);
    } finally {
      after.close();
    }
  });
});
