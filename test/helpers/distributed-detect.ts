/**
 * The distributed detection scenario (issue 5), on any Bus: the process role runs the rules and
 * publishes match messages keyed by rule + group key; a correlate consumer group of TWO members
 * shares the matches partitions. Returns what they raised and what one in-process detector raises
 * over the same envelopes. Used by test/roles/distributed-detect.test.ts (memory bus) and
 * test/integration/distributed-detect-kafka.test.ts (the real broker).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Bus, BusRecord } from '../../src/bus/bus.ts';
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

export function finalState(alerts: Alert[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of alerts) out.set(a.id, `${a.rule_id} ${JSON.stringify(a.group)} count=${a.count}`);
  return new Map([...out].sort());
}

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pipeline to catch up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ScenarioResult {
  /** Final state per alert id of one in-process detector over the same envelopes. */
  expected: Map<string, string>;
  /** Final state per alert id raised by each correlate member. */
  perMember: Array<Map<string, string>>;
  /** Matches partitions each member owned. */
  owned: number[];
  events: number;
  rejects: number;
  total: number;
}

/** Topic and group names; the memory bus takes the defaults, Kafka tests pass unique ones. */
export interface ScenarioNames {
  prefix: string;
  waitMs: number;
}

export async function distributedDetectScenario(bus: Bus, names: ScenarioNames): Promise<ScenarioResult> {
  const { prefix, waitMs } = names;
  const dir = mkdtempSync(join(tmpdir(), 'socstream-dist-detect-'));
  const config = validateConfig(
    {
      data_dir: dir,
      detect: { rules: [RULES] },
      topics: {
        network: `${prefix}events.network`,
        auth: `${prefix}events.auth`,
        web: `${prefix}events.web`,
        other: `${prefix}events.other`,
        matches: `${prefix}matches`,
      },
    },
    'distributed-detect',
  );
  const raw = (topic: string) => `${prefix}${topic}`;

  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const ctx = { logger, telemetry };
  const MATCH_PARTITIONS = 4;
  await bus.createTopics([
    ...INPUTS.map((i) => ({ name: raw(i.topic), partitions: i.files.length })),
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
      group: `${prefix}correlate`,
      topic: config.topics.matches,
      state: member.state,
      origins: INPUTS.flatMap((i) => i.files.map((_, p) => `${raw(i.topic)}:${p}`)),
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
  // Kafka assigns partitions after the join: wait until both members own theirs, so no group's
  // matches are read by one member and then moved to the other (state is not rebuilt, see docs).
  await until(async () => roles.every((r) => r.assignments().length > 0), waitMs);

  const engine = buildEngine(config, ctx);
  await engine.enricher.start();
  const events: Envelope[] = [];
  const rejects: Reject[] = [];
  const processRole = createProcessRole({
    bus,
    group: `${prefix}process`,
    topics: INPUTS.map((i) => ({ topic: raw(i.topic), format: i.format })),
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
      await publishTo(bus, raw(input.topic), p, records);
    }
  }
  const caughtUp = async (group: string, topics: string[]) => {
    const ends = await bus.endOffsets(topics);
    const committed = new Map(
      (await bus.committedOffsets(group, topics)).map((c) => [`${c.topic}:${c.partition}`, c.offset]),
    );
    return ends.every((e) => (committed.get(`${e.topic}:${e.partition}`) ?? 0n) === e.offset);
  };
  await until(
    () =>
      caughtUp(
        `${prefix}process`,
        INPUTS.map((i) => raw(i.topic)),
      ),
    waitMs,
  );
  await until(() => caughtUp(`${prefix}correlate`, [config.topics.matches]), waitMs);
  const owned = roles.map((r) => r.assignments().length);

  await processRole.stop();
  await Promise.all(roles.map((r) => r.stop()));
  await Promise.all([processRun, ...correlateRuns]);
  await engine.enricher.stop();
  // End of input: every open window is decided (what `socstream detect` does at EOF).
  for (const m of members) m.alerts.push(...m.state.advance().alerts);

  // One in-process detector over the same envelopes (same ids), in event-time order.
  const detector = createDetector(options);
  const sorted = [...events].sort(
    (a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time),
  );
  return {
    expected: finalState([...detector.process(sorted), ...detector.advance()]),
    perMember: members.map((m) => finalState(m.alerts)),
    owned,
    events: events.length,
    rejects: rejects.length,
    total,
  };
}

/** Publishes records to one partition: the memory bus picks a partition by key, so find a key for it. */
async function publishTo(bus: Bus, topic: string, partition: number, records: BusRecord[]): Promise<void> {
  const partitions = (await bus.listTopics()).find((t) => t.name === topic)?.partitions ?? 1;
  let key = 0;
  while (partitionForKey(`k${key}`, partitions) !== partition) key++;
  await bus.publish(
    topic,
    records.map((r) => ({ ...r, key: `k${key}` })),
  );
}

/** What both tests prove: the members' alerts are disjoint and together the in-process ones. */
export function assertScenario(r: ScenarioResult): void {
  assert.equal(r.events + r.rejects, r.total);
  assert.equal(r.rejects, 0);
  const rules = new Set([...r.expected.values()].map((v) => v.split(' ')[0]));
  assert.equal(
    rules.size,
    5,
    `brute force (account, source), spray and scans alert: ${[...r.expected.values()].join('; ')}`,
  );
  assert.deepEqual(r.owned, [2, 2], 'each member owns two of the four matches partitions');
  assert.ok(
    r.perMember.every((s) => s.size > 0),
    'the groups land on both members (different partitions)',
  );
  for (const id of r.perMember[0].keys()) {
    assert.ok(!r.perMember[1].has(id), `alert ${id} raised by one member only`);
  }
  const together = new Map([...r.perMember[0], ...r.perMember[1]].sort());
  assert.deepEqual(together, r.expected);
}
