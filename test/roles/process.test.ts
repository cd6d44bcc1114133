/**
 * The process role, one pass (src/roles/process.ts): it hands each consumed batch to the lake at
 * once and goes on consuming while earlier lake writes wait; it commits strictly in consumption
 * order, each batch only after its events are durable in the lake and its other outputs acked
 * (at-least-once, the commit rule of docs/kafka.md). On the memory bus, with a lake whose writes
 * the test makes durable by hand. Lines: test/fixtures/parsers/sshd/auth.in.log (real auth.log
 * lines, see SOURCES.md there).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { ConsumedBatch, SubscribeOptions, Subscription } from '../../src/core/bus.ts';
import type { DeadLetter } from '../../src/core/component.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { buildEngine } from '../../src/pipeline/build.ts';
import { topicPlan } from '../../src/pipeline/topics.ts';
import type { RoleLake } from '../../src/roles/durable-loop.ts';
import { createProcessRole } from '../../src/roles/process.ts';

const LINES = readFileSync(new URL('../fixtures/parsers/sshd/auth.in.log', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.includes('sshd['));
const BATCH = 2;

interface HeldWrite {
  /** The consumed batch (1-based) being processed when this write was made. */
  batch: number;
  envelopes: Envelope[];
  durable(): void;
  fail(error: Error): void;
}

/** A lake whose writes become durable when the test says so; flush() is recorded. */
class HeldLake implements RoleLake {
  readonly writes: HeldWrite[] = [];
  flushes = 0;
  readonly consumed: () => number;
  constructor(consumed: () => number) {
    this.consumed = consumed;
  }
  start = async () => {};
  stop = async () => {};
  healthcheck = async () => ({ ok: true });
  async flush() {
    this.flushes++;
  }
  write(envelopes: Envelope[]): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.writes.push({ batch: this.consumed(), envelopes, durable: () => resolve(), fail: reject });
    return promise;
  }
  of(batch: number): HeldWrite[] {
    return this.writes.filter((w) => w.batch === batch);
  }
}

/** The memory bus with the raw topic consumed BATCH records at a time and every commit recorded. */
class CountingBus extends MemoryBus {
  readonly commits: bigint[] = [];
  batchesConsumed = 0;

  override async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const sub = await super.subscribe({ ...options, maxBatchRecords: BATCH, maxWaitMs: 1 });
    const self = this;
    const iterate = async function* (): AsyncGenerator<ConsumedBatch> {
      for await (const batch of sub) {
        self.batchesConsumed++;
        yield batch;
      }
    };
    return {
      [Symbol.asyncIterator]: () => iterate(),
      commit: async (batch) => {
        self.commits.push(batch.records.at(-1)!.offset + 1n);
        await sub.commit(batch);
      },
      commitOffsets: (o) => sub.commitOffsets(o),
      assignments: () => sub.assignments(),
      close: () => sub.close(),
    };
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));

async function startRole(options: { maxInFlightRecords?: number; routes?: unknown[] } = {}) {
  const bus = new CountingBus();
  const lake = new HeldLake(() => bus.batchesConsumed);
  const config = validateConfig({ data_dir: tmpdir(), routes: options.routes ?? [] }, 'process.test');
  const plan = topicPlan(config, ['raw.auth']);
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const ctx = { logger, telemetry: createTelemetry({ defaultMetrics: false }) };
  const dlq: DeadLetter = {
    start: async () => {},
    stop: async () => {},
    flush: async () => {},
    healthcheck: async () => ({ ok: true }),
    write: async () => {},
  };
  const engine = buildEngine(config, ctx, 'process.test');
  await engine.enricher.start();
  await bus.createTopics(plan.specs.map((t) => ({ name: t.name, partitions: 1 })));
  const role = createProcessRole({
    bus,
    group: 'process',
    topics: [{ topic: 'raw.auth', format: 'sshd' }],
    processor: engine.processor,
    lake,
    route: plan.route,
    dlq,
    ctx,
    maxInFlightRecords: options.maxInFlightRecords,
  });
  const run = role.run();
  run.catch(() => {});
  await role.ready;
  const enc = new TextEncoder();
  await bus.publish(
    'raw.auth',
    LINES.slice(0, 4 * BATCH).map((line) => ({ key: 'auth.log', value: enc.encode(line) })),
  );
  return {
    bus,
    lake,
    run,
    async stop() {
      for (const w of lake.writes) w.durable();
      await role.stop();
      await engine.enricher.stop();
      await bus.close();
    },
  };
}

test('the process role works ahead of lake writes and commits in order, each batch once its events are durable', async () => {
  assert.ok(LINES.length >= 4 * BATCH, 'enough sshd lines in the fixture');
  const { bus, lake, run, stop } = await startRole();
  try {
    // Four batches processed and handed to the lake while nothing is durable: nothing committed.
    await until('four batches written', () => lake.of(4).length > 0);
    await settle();
    assert.deepEqual(bus.commits, []);
    // Later batches made durable commit nothing while the first batch is not.
    for (const batch of [4, 2, 3]) for (const w of lake.of(batch)) w.durable();
    await settle();
    assert.deepEqual(bus.commits, [], 'no commit past the first batch, not yet in the lake');
    for (const w of lake.of(1)) w.durable();
    await until('four commits', () => bus.commits.length === 4);
    assert.deepEqual(bus.commits, [2n, 4n, 6n, 8n], 'one commit per batch, in consumption order');
    // Every event reached the lake, in one pass: no event topic was written.
    assert.equal(
      lake.writes.reduce((n, w) => n + w.envelopes.length, 0),
      4 * BATCH,
    );
    const ends = await bus.endOffsets(['events.network', 'events.auth', 'events.web', 'events.other']);
    assert.deepEqual(
      ends.map((e) => e.offset),
      [],
      'no class topic exists unless asked for',
    );
  } finally {
    await stop();
  }
  await run;
});

test('at maxInFlightRecords uncommitted records the role forces a lake flush and reads on once they commit', async () => {
  const { bus, lake, run, stop } = await startRole({ maxInFlightRecords: 2 * BATCH });
  try {
    await until('two batches written', () => lake.of(2).length > 0);
    await until('a forced flush', () => lake.flushes > 0);
    await settle();
    assert.ok(bus.batchesConsumed <= 3, `consumed ${bus.batchesConsumed} batches at the bound`);
    assert.equal(lake.of(4).length, 0, 'the fourth batch is not processed yet');
    for (const w of lake.writes) w.durable();
    await until('the fourth batch written', () => lake.of(4).length > 0);
    for (const w of lake.writes) w.durable();
    await until('four commits', () => bus.commits.length === 4);
    assert.deepEqual(bus.commits, [2n, 4n, 6n, 8n]);
  } finally {
    await stop();
  }
  await run;
});

test('a failed lake write fails the role and nothing after it is committed, even what is durable', async () => {
  const { bus, lake, run, stop } = await startRole();
  try {
    await until('three batches written', () => lake.of(3).length > 0);
    for (const w of lake.of(1)) w.durable();
    await until('the first commit', () => bus.commits.length === 1);
    for (const w of lake.of(3)) w.durable();
    for (const w of lake.of(2)) w.fail(new Error('disk said no'));
    await assert.rejects(run, /disk said no/);
    await settle();
    assert.deepEqual(bus.commits, [2n], 'only the batch before the failure is committed');
  } finally {
    await stop();
  }
});

test("a route's topic gets the events it claims, besides the lake; the rest go to the lake only", async () => {
  const routes = [{ match: { log_type: 'auth' }, topic: 'auth-out', key: ['src_ip'] }];
  const { bus, lake, run, stop } = await startRole({ routes });
  try {
    await until('four batches written', () => lake.of(4).length > 0);
    for (const w of lake.writes) w.durable();
    await until('four commits', () => bus.commits.length === 4);
    const inLake = lake.writes.flatMap((w) => w.envelopes);
    const auth = inLake.filter((e) => e.log_type === 'auth');
    assert.ok(auth.length > 0, 'the fixture has auth events');
    const routed = (await bus.endOffsets(['auth-out'])).reduce((n, e) => n + Number(e.offset), 0);
    assert.equal(routed, auth.length, 'every auth event on the route topic');
    assert.equal(inLake.length, 4 * BATCH, 'and every event in the lake');
  } finally {
    await stop();
  }
  await run;
});
