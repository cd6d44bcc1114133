/**
 * Detection distributed over the bus (issue 5, ARCHITECTURE.md "Two ways to run"): the process
 * role runs the rules and publishes match messages keyed by rule + group key; a correlate consumer
 * group of TWO members shares the matches partitions. Together they raise exactly the alerts one
 * in-process detector raises over the same events (same ids, same counts), each alert on one member.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { BusRecord } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { partitionForKey } from '../../src/bus/partitioner.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { Envelope, Reject } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import type { Alert } from '../../src/detect/alert.ts';
import {
  type CorrelationState,
  createCorrelationState,
  createDetector,
  createEventMatcher,
} from '../../src/detect/detector.ts';
import { createTelemetry } from '../../src/metrics/telemetry.ts';
import { createRouter } from '../../src/normalize/route.ts';
import { buildEngine, detectorOptions } from '../../src/roles/build.ts';
import { createCorrelateRole } from '../../src/roles/correlate.ts';
import { createProcessRole } from '../../src/roles/process.ts';

const HUB = new URL('../fixtures/detect/crowdsec-hub/', import.meta.url).pathname;
const RULE_FIXTURES = new URL('../../rules/fixtures/', import.meta.url).pathname;
const RULES = new URL('../../rules/', import.meta.url).pathname;

/** Raw topic → one file per partition (brute force on accounts, from sources, spray, scans). */
const INPUTS: Array<{ topic: string; format: string; files: string[] }> = [
  {
    topic: 'raw.auth',
    format: 'sshd',
    files: [
      join(HUB, 'opnsense-sshd__opnsense-sshd.log'),
      join(HUB, 'sshd-logs__sshd-logs.log'),
      join(HUB, 'ssh-slow-bf__ssh-slow-bf.log'),
      join(HUB, 'ssh-bf__ssh-bf.log'),
      join(HUB, 'syslog-logs__syslog-logs.log'),
    ],
  },
  {
    topic: 'raw.net',
    format: 'zeek-json',
    files: [
      join(RULE_FIXTURES, 'port_scan_vertical/positive.log'),
      join(RULE_FIXTURES, 'port_sweep_horizontal/positive.log'),
    ],
  },
];

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);

function finalState(alerts: Alert[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of alerts) out.set(a.id, `${a.rule_id} ${JSON.stringify(a.group)} count=${a.count}`);
  return new Map([...out].sort());
}

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pipeline to catch up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('two correlate members over re-keyed matches raise exactly the in-process alerts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-dist-detect-'));
  const config = validateConfig({ data_dir: dir, detect: { rules: [RULES] } }, 'distributed-detect.test');
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const ctx = { logger, telemetry };
  const bus = new MemoryBus();
  const MATCH_PARTITIONS = 4;
  await bus.createTopics([
    ...INPUTS.map((i) => ({ name: i.topic, partitions: i.files.length })),
    ...[config.topics.network, config.topics.auth, config.topics.web, config.topics.other].map((name) => ({
      name,
      partitions: 2,
    })),
    { name: config.topics.matches, partitions: MATCH_PARTITIONS },
  ]);
  const options = detectorOptions(config, ctx);

  // Two correlate members, one consumer group: each owns two of the four matches partitions.
  const members: Array<{ state: CorrelationState; alerts: Alert[] }> = [];
  const roles = [0, 1].map(() => {
    const member = { state: createCorrelationState(options), alerts: [] as Alert[] };
    members.push(member);
    return createCorrelateRole({
      bus,
      group: 'correlate',
      topic: config.topics.matches,
      state: member.state,
      origins: INPUTS.flatMap((i) => i.files.map((_, p) => `${i.topic}:${p}`)),
      output: {
        name: 'memory',
        write: async (alerts) => {
          member.alerts.push(...alerts);
        },
        stop: async () => {},
      },
      ctx,
    });
  });
  const correlateRuns = roles.map((r) => r.run());
  await Promise.all(roles.map((r) => r.ready));

  const engine = buildEngine(config, ctx);
  await engine.enricher.start();
  const events: Envelope[] = [];
  const rejects: Reject[] = [];
  const processRole = createProcessRole({
    bus,
    group: 'process',
    topics: INPUTS.map((i) => ({ topic: i.topic, format: i.format })),
    processor: engine.processor,
    route: createRouter(config.routes, config.topics),
    dlq: {
      start: async () => {},
      write: async (r) => {
        rejects.push(...r);
      },
      flush: async () => {},
      stop: async () => {},
      healthcheck: async () => ({ ok: true }),
    },
    detection: { matcher: createEventMatcher(options), topic: config.topics.matches },
    onEvents: (batch) => events.push(...batch),
    ctx,
  });
  const processRun = processRole.run();
  await processRole.ready;

  let total = 0;
  for (const input of INPUTS) {
    for (const [p, file] of input.files.entries()) {
      const records: BusRecord[] = lines(file).map((l) => ({
        key: null,
        value: new TextEncoder().encode(l),
      }));
      total += records.length;
      // A null key goes round-robin: publish one partition's lines through a key that lands there.
      await publishTo(bus, input.topic, p, records);
    }
  }
  const caughtUp = async (group: string, topics: string[]) => {
    const ends = await bus.endOffsets(topics);
    const committed = new Map(
      (await bus.committedOffsets(group, topics)).map((c) => [`${c.topic}:${c.partition}`, c.offset]),
    );
    return ends.every((e) => (committed.get(`${e.topic}:${e.partition}`) ?? 0n) === e.offset);
  };
  await until(() =>
    caughtUp(
      'process',
      INPUTS.map((i) => i.topic),
    ),
  );
  await until(() => caughtUp('correlate', [config.topics.matches]));
  assert.equal(events.length + rejects.length, total);
  assert.equal(rejects.length, 0);

  await processRole.stop();
  await Promise.all(roles.map((r) => r.stop()));
  await Promise.all([processRun, ...correlateRuns]);
  await engine.enricher.stop();
  // End of input: every open window is decided (what `socstream detect` does at EOF).
  for (const m of members) m.alerts.push(...m.state.advance().alerts);
  await bus.close();

  // One in-process detector over the same envelopes (same ids), in event-time order.
  const detector = createDetector(options);
  const sorted = [...events].sort(
    (a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time),
  );
  const expected = finalState([...detector.process(sorted), ...detector.advance()]);
  const rules = new Set([...expected.values()].map((v) => v.split(' ')[0]));
  assert.equal(
    rules.size,
    5,
    `brute force (account, source), spray and scans alert: ${[...expected.values()].join('; ')}`,
  );

  const perMember = members.map((m) => finalState(m.alerts));
  assert.ok(
    perMember.every((s) => s.size > 0),
    'the groups land on both members (different partitions)',
  );
  for (const id of perMember[0].keys())
    assert.ok(!perMember[1].has(id), `alert ${id} raised by one member only`);
  assert.deepEqual(finalState(members.flatMap((m) => m.alerts)), expected);
});

/** Publishes records to one partition: the memory bus picks a partition by key, so find a key for it. */
async function publishTo(
  bus: MemoryBus,
  topic: string,
  partition: number,
  records: BusRecord[],
): Promise<void> {
  const partitions = (await bus.listTopics()).find((t) => t.name === topic)?.partitions ?? 1;
  let key = 0;
  while (partitionForKey(`k${key}`, partitions) !== partition) key++;
  await bus.publish(
    topic,
    records.map((r) => ({ ...r, key: `k${key}` })),
  );
}
