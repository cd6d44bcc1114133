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
import { partitionForKey } from '../../src/bus/partitioner.ts';
import { validateConfig } from '../../src/config/loader.ts';
import { prefixedTopics } from '../../src/config/topics.ts';
import type { Bus, BusRecord } from '../../src/core/bus.ts';
import type { Envelope, Reject } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import {
  type CorrelationState,
  createCorrelationState,
  createDetector,
  createEventMatcher,
} from '../../src/detect/detector.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createRouter } from '../../src/normalize/route.ts';
import { buildEngine, detectorOptions } from '../../src/pipeline/build.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';
import { matchRecord } from '../../src/roles/codec.ts';
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
      topics: prefixedTopics(prefix),
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

/**
 * Takeover (issue 9): correlate member A reads the first 8 of the 22 failures of the pack's slow
 * brute force (real sshd lines, below every threshold) and commits, then stops; member B of the
 * same group takes the matches partition over and reads the rest, three of them delivered twice (a
 * process-role replay). Returns the final alert states of A and B together, of one uninterrupted
 * in-process detector, and of a member that would start with empty windows.
 */
export interface TakeoverResult {
  got: Map<string, string>;
  expected: Map<string, string>;
  cold: Map<string, string>;
  duplicates: number;
  rebuildLogs: number;
}

export async function takeoverScenario(bus: Bus, names: ScenarioNames): Promise<TakeoverResult> {
  const { prefix, waitMs } = names;
  const config = validateConfig(
    { data_dir: mkdtempSync(join(tmpdir(), 'socstream-takeover-')), detect: { rules: [RULES] } },
    'takeover',
  );
  let rebuildLogs = 0;
  const logger = createLogger({
    destination: new Writable({
      write: (chunk, _e, cb) => {
        if (String(chunk).includes('correlation windows rebuilt')) rebuildLogs++;
        cb();
      },
    }),
    level: 'info',
  });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const options = detectorOptions(config, { logger, telemetry });
  const engine = buildEngine(config, { logger, telemetry });
  await engine.enricher.start();
  const reader = createEnvelopeReader({
    name: 'ssh-slow-bf',
    format: 'sshd',
    normalizer: createNormalizer(),
    receivedAt: Date.UTC(2026, 10, 1),
  });
  const envelopes = reader.read(lines(join(HUB, 'ssh-slow-bf__ssh-slow-bf.log')));
  await engine.enricher.stop();
  assert.equal(envelopes.length, 22);
  const detector = createDetector(options);
  const expected = finalState([...detector.process(envelopes), ...detector.advance()]);

  const origin = `${prefix}raw.auth:0`;
  const topic = `${prefix}takeover.matches`;
  const group = `${prefix}takeover.correlate`;
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  const eventMatcher = createEventMatcher(options);
  const before = eventMatcher.matchEvents(envelopes.slice(0, 8), origin);
  const after = eventMatcher.matchEvents(envelopes.slice(8), origin);
  const caughtUp = async () => {
    const ends = await bus.endOffsets([topic]);
    const committed = await bus.committedOffsets(group, [topic]);
    return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset);
  };
  const member = () => {
    const state = createCorrelationState(options);
    const alerts: Alert[] = [];
    const role = createCorrelateRole({
      bus,
      group,
      topic,
      state,
      origins: [origin],
      output: { name: 'memory', write: async (a) => void alerts.push(...a), stop: async () => {} },
      ctx: { logger, telemetry },
    });
    return { role, run: role.run(), state, alerts };
  };
  const a = member();
  await a.role.ready;
  await bus.publish(topic, before.map(matchRecord));
  await until(caughtUp, waitMs);
  await a.role.stop();
  await a.run;
  const b = member();
  await b.role.ready;
  await bus.publish(topic, [...after.slice(0, 3), ...after].map(matchRecord));
  await until(caughtUp, waitMs);
  await b.role.stop();
  await b.run;
  const got = finalState([...a.alerts, ...b.alerts, ...b.state.advance().alerts]);

  const coldState = createCorrelationState(options);
  coldState.assignPartitions([origin]);
  const cold = finalState([...coldState.correlateMatches(after).alerts, ...coldState.advance().alerts]);
  return { got, expected, cold, duplicates: b.state.stats().duplicates, rebuildLogs };
}

/** What the takeover proves: one alert per attack, the uninterrupted ids and counts. */
export function assertTakeover(r: TakeoverResult): void {
  assert.ok(r.expected.size >= 1, 'the slow brute force alerts when uninterrupted');
  assert.deepEqual(r.got, r.expected);
  assert.ok(r.duplicates >= 3, 'the matches delivered twice were counted once');
  assert.ok(r.rebuildLogs >= 1, 'the member taking over rebuilt its windows');
  assert.notDeepEqual(
    [...r.cold.keys()],
    [...r.expected.keys()],
    'a member with empty windows raises other ids',
  );
}
