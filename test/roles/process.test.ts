/**
 * The process role pipelines consumed batches (src/roles/process.ts, src/roles/in-order.ts): it
 * processes and publishes the next batches while earlier publishes wait for their acks, and it
 * commits strictly in consumption order, each batch only after everything derived from it was
 * acked (at-least-once). On the memory bus, with a bus whose publishes the test acks by hand.
 * Lines: test/fixtures/parsers/sshd/auth.in.log (real auth.log lines, see SOURCES.md there).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Bus, BusRecord, ConsumedBatch, SubscribeOptions, Subscription } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { DeadLetter } from '../../src/core/component.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/metrics/telemetry.ts';
import { createRouter } from '../../src/normalize/route.ts';
import { buildEngine } from '../../src/roles/build.ts';
import { createProcessRole } from '../../src/roles/process.ts';

const LINES = readFileSync(new URL('../fixtures/parsers/sshd/auth.in.log', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.includes('sshd['));
const BATCH = 2;

interface HeldPublish {
  topic: string;
  /** The consumed batch (1-based) being processed when this publish was made. */
  batch: number;
  records: BusRecord[];
  ack(): void;
  fail(error: Error): void;
}

/**
 * The memory bus, except that publishes to the events topics wait for the test to ack them, the
 * raw topic is consumed BATCH records at a time, and every commit is recorded.
 */
class HeldBus {
  readonly inner = new MemoryBus();
  readonly held: HeldPublish[] = [];
  readonly commits: bigint[] = [];
  batchesConsumed = 0;

  asBus(): Bus {
    const self = this;
    return new Proxy(this.inner, {
      get(target, prop, receiver) {
        if (prop === 'publish') return self.publish.bind(self);
        if (prop === 'subscribe') return self.subscribe.bind(self);
        return Reflect.get(target, prop, receiver);
      },
    });
  }

  publish(topic: string, records: BusRecord[]): Promise<void> {
    if (!topic.startsWith('events.')) return this.inner.publish(topic, records);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.held.push({
      topic,
      batch: this.batchesConsumed,
      records,
      ack: () => resolve(this.inner.publish(topic, records)),
      fail: reject,
    });
    return promise;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const sub = await this.inner.subscribe({ ...options, maxBatchRecords: BATCH, maxWaitMs: 1 });
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

  /** Held publishes of one consumed batch. */
  of(batch: number): HeldPublish[] {
    return this.held.filter((h) => h.batch === batch);
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

async function startRole(maxInFlightBatches: number) {
  const held = new HeldBus();
  const bus = held.asBus();
  const config = validateConfig({ data_dir: tmpdir() }, 'process.test');
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
  await bus.createTopics(
    ['raw.auth', 'events.network', 'events.auth', 'events.web', 'events.other'].map((name) => ({
      name,
      partitions: 1,
    })),
  );
  const role = createProcessRole({
    bus,
    group: 'process',
    topics: [{ topic: 'raw.auth', format: 'sshd' }],
    processor: engine.processor,
    route: createRouter(config.routes, config.topics),
    dlq,
    ctx,
    maxInFlightBatches,
  });
  const run = role.run();
  run.catch(() => {});
  await role.ready;
  const enc = new TextEncoder();
  await held.inner.publish(
    'raw.auth',
    LINES.slice(0, 4 * BATCH).map((line) => ({ key: 'auth.log', value: enc.encode(line) })),
  );
  return {
    held,
    run,
    async stop() {
      await role.stop();
      await engine.enricher.stop();
      await held.inner.close();
    },
  };
}

test('the process role works ahead of unacked publishes and commits only in order, each batch after its acks', async () => {
  assert.ok(LINES.length >= 4 * BATCH, 'enough sshd lines in the fixture');
  const { held, run, stop } = await startRole(8);
  try {
    // Four batches processed and published while nothing is acked: nothing committed.
    await until('four batches published', () => held.of(4).length > 0);
    await settle();
    assert.deepEqual(held.commits, []);
    // Acks of later batches commit nothing while the first batch is unacked.
    for (const batch of [4, 2, 3]) for (const h of held.of(batch)) h.ack();
    await settle();
    assert.deepEqual(held.commits, [], 'no commit past the unacked first batch');
    for (const h of held.of(1)) h.ack();
    await until('four commits', () => held.commits.length === 4);
    assert.deepEqual(held.commits, [2n, 4n, 6n, 8n], 'one commit per batch, in consumption order');
    // Every record reached the events topics, each batch's in consumption order.
    const published = held.held.flatMap((h) => h.records.length);
    assert.equal(
      published.reduce((a, b) => a + b, 0),
      4 * BATCH,
    );
  } finally {
    await stop();
  }
  await run;
});

test('at most maxInFlightBatches batches wait for acks; the next is consumed once the oldest commits', async () => {
  const { held, run, stop } = await startRole(2);
  try {
    // Two batches in flight; the loop has read a third and waits for room before reading on.
    await until('two batches published', () => held.of(2).length > 0);
    await settle();
    assert.ok(held.batchesConsumed <= 3, `consumed ${held.batchesConsumed} batches with 2 in flight`);
    assert.equal(held.of(4).length, 0, 'the fourth batch is not processed yet');
    for (const h of held.of(1)) h.ack();
    await until('the first commit', () => held.commits.length === 1);
    await until('the fourth batch published', () => held.of(4).length > 0);
    for (const batch of [2, 3, 4]) for (const h of held.of(batch)) h.ack();
    await until('four commits', () => held.commits.length === 4);
    assert.deepEqual(held.commits, [2n, 4n, 6n, 8n]);
  } finally {
    await stop();
  }
  await run;
});

test('a failed publish fails the role and nothing after it is committed, even what was acked', async () => {
  const { held, run, stop } = await startRole(8);
  try {
    await until('three batches published', () => held.of(3).length > 0);
    for (const h of held.of(1)) h.ack();
    await until('the first commit', () => held.commits.length === 1);
    for (const h of held.of(3)) h.ack();
    for (const h of held.of(2)) h.fail(new Error('broker said no'));
    await assert.rejects(run, /broker said no/);
    await settle();
    assert.deepEqual(held.commits, [2n], 'only the batch before the failure is committed');
  } finally {
    await stop();
  }
});
