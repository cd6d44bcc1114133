/**
 * The correlate role's commit rule with pipelined batches (src/roles/correlate.ts): a consumed batch
 * of match messages is committed only once its alerts are written and every earlier batch is
 * committed, but the next batch is correlated at once — its decision does not wait for the previous
 * batch's alert write and commit round trips (detection latency). A failed alert write stops the
 * role and nothing after it is committed. On the memory bus, with an alert output whose writes the
 * test completes by hand; matches from the rule pack's threat fixtures (the threat-analyzer seed's
 * events) through the process side's event matcher.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { detectSchema } from '../../src/config/schema.ts';
import type { ConsumedBatch, SubscribeOptions, Subscription } from '../../src/core/bus.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import {
  createCorrelationState,
  createEventMatcher,
  type DetectorOptions,
} from '../../src/detect/detector.ts';
import type { MatchMessage } from '../../src/detect/matches.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { createMatcher } from '../../src/detect/sigma/matcher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';
import { matchRecord } from '../../src/roles/codec.ts';
import { createCorrelateRole } from '../../src/roles/correlate.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;
const THREATS = new URL('../../rules/fixtures/threat_critical/positive.json', import.meta.url).pathname;
const ruleSet = loadRules([RULES]);
const options: DetectorOptions = {
  ruleSet,
  matcher: createMatcher(ruleSet.rules),
  config: detectSchema.parse({}),
  now: () => Date.UTC(2026, 0, 31, 11),
};
const silent = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

/** The threat fixture's events matched by the process side: single-event alerts, one per host. */
function threatMatches(): MatchMessage[] {
  const lines = readFileSync(THREATS, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const envelopes = createEnvelopeReader({
    name: 'threats',
    format: 'threat-json',
    normalizer: createNormalizer(),
    receivedAt: Date.UTC(2026, 0, 31, 11),
  }).read(lines);
  const out: MatchMessage[] = [];
  createEventMatcher(options).matchEvents(
    envelopes,
    'raw.threat:0',
    out,
    envelopes.map((_, i) => i),
  );
  return out.filter((m) => m.type === 'event');
}

/** The memory bus with every commit of the matches topic recorded. */
class CommitLog extends MemoryBus {
  readonly commits: bigint[] = [];
  override async subscribe(o: SubscribeOptions): Promise<Subscription> {
    const sub = await super.subscribe(o);
    return {
      [Symbol.asyncIterator]: () => sub[Symbol.asyncIterator](),
      commit: async (batch: ConsumedBatch) => {
        this.commits.push(batch.records.at(-1)!.offset + 1n);
        await sub.commit(batch);
      },
      commitOffsets: (x) => sub.commitOffsets(x),
      assignments: () => sub.assignments(),
      close: () => sub.close(),
    };
  }
}

interface HeldWrite {
  alerts: readonly Alert[];
  done(): void;
  fail(error: Error): void;
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 50));

async function start() {
  const matches = threatMatches();
  assert.ok(matches.length >= 3, `the fixture gives single-event matches (${matches.length})`);
  const bus = new CommitLog();
  const topic = 'matches';
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  const writes: HeldWrite[] = [];
  // Decisions counted as they happen (alerts are written one at a time, in order, after them).
  const state = createCorrelationState(options);
  let decided = 0;
  const correlate = state.correlateMatches.bind(state);
  state.correlateMatches = (messages, partition) => {
    const out = correlate(messages, partition);
    decided += out.alerts.length;
    return out;
  };
  const role = createCorrelateRole({
    bus,
    group: 'correlate',
    topic,
    state,
    origins: ['raw.threat:0'],
    output: {
      name: 'held',
      write: (alerts) => {
        const { promise, resolve, reject } = Promise.withResolvers<void>();
        writes.push({ alerts, done: () => resolve(), fail: reject });
        return promise;
      },
      stop: async () => {},
    },
    ctx: { logger: silent, telemetry: createTelemetry({ defaultMetrics: false }) },
  });
  const run = role.run();
  run.catch(() => {});
  await role.ready;
  /** Publishes one match (one batch) and waits until the role has decided its alert. */
  const publishOne = async (i: number) => {
    const before = decided;
    await bus.publish(topic, [matchRecord(matches[i])]);
    await until(`the alert of match ${i}`, () => decided > before);
  };
  return { bus, writes, run, role, publishOne };
}

test('the correlate role decides the next batch before the previous one is written and committed, writes what was decided meanwhile at once, and commits in order after the writes (together when written together)', async () => {
  const { bus, writes, run, role, publishOne } = await start();
  // Three batches of one match each: each is decided while the write before it still waits.
  for (const i of [0, 1, 2]) await publishOne(i);
  await settle();
  assert.equal(writes.length, 1, 'alerts are written one at a time, in order');
  assert.equal(writes[0].alerts.length, 1);
  assert.deepEqual(bus.commits, [], 'nothing committed before its alerts are written');
  writes[0].done();
  // What was decided meanwhile leaves in one write, not one round trip per batch.
  await until('the second write', () => writes.length === 2);
  assert.equal(writes[1].alerts.length, 2, 'the alerts of batches 2 and 3 in one write');
  await until('the first commit', () => bus.commits.length === 1);
  await settle();
  assert.deepEqual(bus.commits, [1n], 'no commit past the first batch before the second write');
  writes[1].done();
  await until('everything committed', () => bus.commits.at(-1) === 3n);
  // Batches written together may be committed together (the last of them per partition).
  assert.ok(
    bus.commits.every((c, i) => i === 0 || c > bus.commits[i - 1]),
    `commits only move forward, in consumption order: ${bus.commits}`,
  );
  assert.equal(writes.length, 2);
  await role.stop();
  await run;
  await bus.close();
});

test('a failed alert write stops the correlate role and nothing after it is committed', async () => {
  const { bus, writes, run, role, publishOne } = await start();
  for (const i of [0, 1, 2]) await publishOne(i);
  writes[0].done();
  await until('the first commit', () => bus.commits.length === 1);
  await until('the second write', () => writes.length === 2);
  writes[1].fail(new Error('alerts topic unreachable'));
  await assert.rejects(run, /alerts topic unreachable/);
  await settle();
  assert.deepEqual(bus.commits, [1n], 'only the batch before the failure is committed');
  await role.stop();
  await bus.close();
});
