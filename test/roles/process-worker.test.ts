/**
 * The process role's worker thread (src/roles/process-worker.ts, config process.workers): the same
 * lake rows (ids included) and the same match messages, in the same order per matches partition,
 * as the role's own thread; and a worker that dies fails the role without committing what it had
 * not made durable, so a restarted member writes every event. On the memory bus with a real lake
 * (DuckDB, Parquet), real rules (rules/) and real lines: Suricata EVE (surevego, with its broken
 * lines: rejects) and sshd auth.log (CrowdSec hub), from ../shared/data (SOURCES.md there).
 * Raw records carry bytes only (as from Kafka), so they cross to the worker packed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryBus } from '../../src/bus/memory.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { Config } from '../../src/config/schema.ts';
import type { BusRecord, ConsumedRecord } from '../../src/core/bus.ts';
import type { DeadLetter } from '../../src/core/component.ts';
import type { Reject } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry, type Telemetry } from '../../src/core/telemetry.ts';
import { createEventMatcher } from '../../src/detect/detector.ts';
import { buildEngine, detectorOptions } from '../../src/pipeline/build.ts';
import { groupsOf, type TopicPlan, topicPlan } from '../../src/pipeline/topics.ts';
import { decodeMatches } from '../../src/roles/codec.ts';
import { createProcessRole, type ProcessRole } from '../../src/roles/process.ts';
import { ProcessWorker } from '../../src/roles/process-worker.ts';
import { packBatch, unpackBatch } from '../../src/roles/process-worker-codec.ts';
import { createLakeSink } from '../../src/sinks/parquet/sink.ts';

const DATA = new URL('../../../shared/data/', import.meta.url);
const RULES = new URL('../../rules', import.meta.url).pathname;
const lines = (path: string) =>
  readFileSync(new URL(path, DATA), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
const INPUTS: Record<string, string[]> = {
  'raw.eve': [...lines('suricata/surevego/eve.json'), ...lines('suricata/surevego/eve_broken.json')],
  'raw.auth': [
    ...lines('auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log'),
    ...lines('auth/crowdsec-hub/sshd-invalid-bf__sshd-invalid-bf.log'),
    ...lines('auth/crowdsec-hub/ssh-time-based-bf__ssh-time-based-bf.log'),
  ],
};
const PARTITIONS = 2;
const TOTAL = Object.values(INPUTS).reduce((n, l) => n + l.length, 0);

const silent = () =>
  createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

/** Raw records as Kafka hands them: bytes, a key, no object; spread over two partitions by key. */
async function fill(bus: MemoryBus, plan: TopicPlan): Promise<void> {
  await bus.createTopics(plan.specs.map((t) => ({ name: t.name, partitions: PARTITIONS })));
  for (const [topic, list] of Object.entries(INPUTS)) {
    const records: BusRecord[] = list.map((line, i) => ({
      key: `host-${i % 3}`,
      value: Buffer.from(line, 'utf8'),
    }));
    await bus.publish(topic, records);
  }
}

interface Run {
  rows: string[];
  /** Per matches partition: the messages in their order, ingest_time left out (a clock reading). */
  matches: unknown[][];
  rejects: string[];
  /** Sums of the series the engine and the lake count: [events in, events out (lake), rule matches, flushes]. */
  metrics: number[];
}

async function sumOf(telemetry: Telemetry, name: keyof Telemetry): Promise<number> {
  const metric = telemetry[name] as { get(): Promise<{ values: Array<{ value: number }> }> };
  return (await metric.get()).values.reduce((n, v) => n + v.value, 0);
}

function configFor(dir: string, workers: number): Config {
  return validateConfig(
    {
      data_dir: dir,
      log_level: 'warn',
      detect: { rules: [RULES] },
      lake: { dir: join(dir, 'lake'), flush_event_count: 100, flush_interval_seconds: 1 },
      process: { workers },
    },
    'process-worker.test',
  );
}

function collectingDlq(into: Reject[]): DeadLetter {
  return {
    start: async () => {},
    stop: async () => {},
    flush: async () => {},
    healthcheck: async () => ({ ok: true }),
    write: async (rejects) => {
      into.push(...rejects);
    },
  };
}

/** The role as buildProcessRole assembles it, with `worker` (or none) and a collecting dead-letter output. */
async function role(
  bus: MemoryBus,
  config: Config,
  plan: TopicPlan,
  rejects: Reject[],
  worker: { encodeMatches: boolean } | null,
  telemetry = createTelemetry({ defaultMetrics: false }),
): Promise<{ role: ProcessRole; processWorker?: ProcessWorker }> {
  const ctx = { logger: silent(), telemetry };
  const detection = detectorOptions(config, ctx);
  const common = {
    bus,
    group: groupsOf(config).process,
    topics: plan.raw,
    dlq: collectingDlq(rejects),
    detection: { matcher: createEventMatcher(detection), topic: plan.matches },
    ctx,
  };
  if (worker === null) {
    const engine = buildEngine(config, ctx, 'process-worker.test');
    await engine.enricher.start();
    const lake = createLakeSink(config.lake, { ...ctx, dataDir: config.data_dir });
    return { role: createProcessRole({ ...common, processor: engine.processor, lake }) };
  }
  const processWorker = new ProcessWorker({
    config,
    file: 'process-worker.test',
    topics: plan.raw,
    detection: true,
    wantEnvelopes: false,
    encodeMatches: worker.encodeMatches,
    logger: ctx.logger,
    telemetry: ctx.telemetry,
    maxHeapMb: 256,
  });
  return { role: createProcessRole({ ...common, worker: processWorker }), processWorker };
}

async function committed(bus: MemoryBus, config: Config): Promise<number> {
  const offsets = await bus.committedOffsets(groupsOf(config).process, Object.keys(INPUTS));
  return offsets.reduce((n, o) => n + Number(o.offset), 0);
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every lake row as JSON (ingest_time left out: a clock reading), sorted by id. */
async function lakeRows(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT * FROM read_parquet('${join(dir, 'lake')}/**/*.parquet', union_by_name = true, hive_partitioning = false) ORDER BY id`,
    );
    return reader.getRowObjectsJson().map((row) => {
      const { ingest_time: _ignored, ...rest } = row as Record<string, unknown>;
      return JSON.stringify(rest);
    });
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function matchesOf(bus: MemoryBus, topic: string): Promise<unknown[][]> {
  const out: unknown[][] = [];
  const ends = await bus.endOffsets([topic]);
  for (const { partition, offset } of ends) {
    const list: unknown[] = [];
    for await (const records of bus.readRange(topic, partition, 0n, offset)) {
      for (const r of records) {
        for (const m of decodeMatches(r)) {
          const { ingest_time: _ignored, ...rest } = m as Record<string, unknown>;
          list.push(rest);
        }
      }
    }
    out[partition] = list;
  }
  return out;
}

async function runOnce(worker: { encodeMatches: boolean } | null): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'process-worker-test-'));
  try {
    const config = configFor(dir, worker === null ? 0 : 1);
    const plan = topicPlan(config, Object.keys(INPUTS));
    const bus = new MemoryBus();
    await fill(bus, plan);
    const rejects: Reject[] = [];
    const telemetry = createTelemetry({ defaultMetrics: false });
    const { role: r } = await role(bus, config, plan, rejects, worker, telemetry);
    const running = r.run();
    await r.ready;
    await until('every record committed', async () => (await committed(bus, config)) >= TOTAL);
    await r.stop();
    await running;
    return {
      rows: await lakeRows(dir),
      matches: await matchesOf(bus, plan.matches),
      rejects: rejects.map((j) => `${j.reason} ${JSON.stringify(j.position)}`),
      metrics: [
        await sumOf(telemetry, 'eventsIn'),
        await sumOf(telemetry, 'eventsOut'),
        await sumOf(telemetry, 'ruleMatches'),
        (await sumOf(telemetry, 'flushes')) > 0 ? 1 : 0,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the worker thread writes the same lake rows and publishes the same matches, in order, as the role thread', async () => {
  const inThread = await runOnce(null);
  assert.ok(inThread.rows.length > 250, `lake rows: ${inThread.rows.length}`);
  assert.ok(inThread.matches.flat().length > 0, 'the rules match some of these lines');
  assert.ok(inThread.rejects.length > 0, 'the broken EVE lines are rejected');
  assert.equal(inThread.metrics[1], inThread.rows.length, 'events out (lake) = rows');
  for (const encodeMatches of [true, false]) {
    const viaWorker = await runOnce({ encodeMatches });
    assert.deepEqual(viaWorker.rows, inThread.rows, `lake rows (encodeMatches ${encodeMatches})`);
    assert.deepEqual(viaWorker.matches, inThread.matches, `matches (encodeMatches ${encodeMatches})`);
    assert.deepEqual(viaWorker.rejects, inThread.rejects, `rejects (encodeMatches ${encodeMatches})`);
    // The worker's counts reach the process's metrics.
    assert.deepEqual(viaWorker.metrics, inThread.metrics, `metrics (encodeMatches ${encodeMatches})`);
  }
});

test('a worker that dies fails the role loudly; nothing it had not made durable is committed, and a restart writes every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'process-worker-crash-'));
  try {
    const config = configFor(dir, 1);
    const plan = topicPlan(config, Object.keys(INPUTS));
    const bus = new MemoryBus();
    await fill(bus, plan);
    const first = await role(bus, config, plan, [], { encodeMatches: true });
    const running = first.role.run();
    running.catch(() => {});
    await first.role.ready;
    // The thread is ended from outside (as an out-of-memory or a native crash would end it).
    await first.processWorker?.thread()?.terminate();
    await assert.rejects(running, /process worker exited/);
    const before = await committed(bus, config);
    assert.ok(before < TOTAL, `committed ${before} of ${TOTAL} before the crash`);
    await first.role.stop();
    // A member started again (on its own thread) takes over what was not committed.
    const second = await role(bus, config, plan, [], null);
    const again = second.role.run();
    await second.role.ready;
    await until(
      'every record committed after the restart',
      async () => (await committed(bus, config)) >= TOTAL,
    );
    await second.role.stop();
    await again;
    const ids = new Set((await lakeRows(dir)).map((row) => (JSON.parse(row) as { id: string }).id));
    const clean = await runOnce(null);
    assert.deepEqual(
      [...ids].sort(),
      clean.rows.map((row) => (JSON.parse(row) as { id: string }).id),
      'every event of an uninterrupted run is in the lake, with the same id',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a packed batch unpacks to records equal in every field the role reads, and its buffers are moved', () => {
  const records: ConsumedRecord[] = [
    { topic: 'raw.a', partition: 0, offset: 7n, key: null, value: Buffer.from('first'), timestamp: 1 },
    {
      topic: 'raw.b',
      partition: 3,
      offset: 9_007_199_254_740_000n,
      key: 'k',
      value: Buffer.from('é'),
      timestamp: 2,
      headers: { 'socstream-format': 'json' },
    },
    { topic: 'raw.a', partition: 1, offset: 0n, key: 'x', value: new Uint8Array(0), timestamp: 3 },
  ];
  const { packed, transfer } = packBatch(records);
  const moved = structuredClone(packed, { transfer });
  assert.equal(packed.values.byteLength, 0, 'the values buffer was moved, not copied');
  assert.deepEqual(
    unpackBatch(moved).map((r) => ({ ...r, value: Buffer.from(r.value).toString() })),
    records.map((r) => ({ ...r, value: Buffer.from(r.value).toString() })),
  );
  const handed = { text: 'line', byteLength: 4, position: { kind: 'stdin', line: 1 }, receivedAt: 5 };
  const withObject = packBatch([{ ...records[0], decoded: handed }]).packed;
  assert.deepEqual(unpackBatch(withObject)[0].decoded, handed);
});

test('a worker that cannot start (its lake directory is a file) fails the role at start, and its thread ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'process-worker-start-'));
  try {
    writeFileSync(join(dir, 'lake'), 'not a directory');
    const config = configFor(dir, 1);
    const plan = topicPlan(config, Object.keys(INPUTS));
    const bus = new MemoryBus();
    await fill(bus, plan);
    const { role: r, processWorker } = await role(bus, config, plan, [], { encodeMatches: true });
    await assert.rejects(r.run(), /process worker failed to start/);
    assert.equal(processWorker?.thread(), null, 'the thread is ended');
    assert.equal(await committed(bus, config), 0);
    await r.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
