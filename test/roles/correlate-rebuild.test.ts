/**
 * Detections that stay exact under crashes and outages (issue 9), on the memory bus and on the
 * correlation state, with real sshd lines (the pack's slow brute force: 22 failures from one source,
 * one every 30 s; crowdsec hub via shared/data/auth/crowdsec-hub):
 * - a correlate member stopped mid-window, another member takes its matches partition over: it
 *   rebuilds the windows from the partition before the committed offset, and the attack is alerted
 *   once, with the id and count of an uninterrupted detector;
 * - a match delivered twice (a process-role replay after a crash) counts once;
 * - one origin delayed behind the others by more than the idle timeout (an outage, a backlog): its
 *   matches are not dropped as late, the attack is alerted with the uninterrupted id;
 * - a window decided only at close, on a partition that stays silent after a takeover: the new
 *   owner rebuilds it as soon as it is assigned (not on a next record that never comes) and closes it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { detectSchema } from '../../src/config/schema.ts';
import type { Bus } from '../../src/core/bus.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import {
  createCorrelationState,
  createDetector,
  createEventMatcher,
  type DetectorOptions,
} from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { createMatcher } from '../../src/detect/sigma/matcher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';
import { matchRecord } from '../../src/roles/codec.ts';
import { createCorrelateRole } from '../../src/roles/correlate.ts';
import { assertTakeover, takeoverScenario } from '../helpers/distributed-detect.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;
const HUB = new URL('../fixtures/detect/crowdsec-hub/', import.meta.url).pathname;
/** Syslog lines carry no year: every file is read as received on the same day. */
const RECEIVED = Date.UTC(2026, 10, 1);
const ruleSet = loadRules([RULES]);
const matcher = createMatcher(ruleSet.rules);
const normalizer = createNormalizer();

function options(over: Partial<DetectorOptions> = {}): DetectorOptions {
  return { ruleSet, matcher, config: detectSchema.parse({}), ...over };
}

function readFile(file: string): Envelope[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  return createEnvelopeReader({ name: file, format: 'sshd', normalizer, receivedAt: RECEIVED }).read(lines);
}

function finalState(alerts: Alert[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of alerts) out.set(a.id, `${a.rule_id} ${JSON.stringify(a.group)} count=${a.count}`);
  return new Map([...out].sort());
}

/** What one uninterrupted in-process detector raises over the envelopes in event-time order. */
function reference(envelopes: Envelope[]): Map<string, string> {
  const detector = createDetector(options({ now: () => RECEIVED }));
  const sorted = [...envelopes].sort(
    (a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time),
  );
  return finalState([...detector.process(sorted), ...detector.advance()]);
}

const SLOW_BF = join(HUB, 'ssh-slow-bf__ssh-slow-bf.log');

const silent = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function committedAll(bus: Bus, group: string, topic: string): Promise<boolean> {
  const ends = await bus.endOffsets([topic]);
  const committed = await bus.committedOffsets(group, [topic]);
  return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset);
}

function member(bus: Bus, topic: string, origins: string[]) {
  const telemetry = createTelemetry({ defaultMetrics: false });
  const state = createCorrelationState(options());
  const alerts: Alert[] = [];
  const role = createCorrelateRole({
    bus,
    group: 'correlate',
    topic,
    state,
    origins,
    output: { name: 'memory', write: async (a) => void alerts.push(...a), stop: async () => {} },
    ctx: { logger: silent, telemetry },
  });
  const run = role.run();
  return { role, run, state, alerts };
}

test('a correlate member stopped mid-window: the member taking over rebuilds the windows and alerts once, with the uninterrupted id and count', async () => {
  const bus = new MemoryBus({ retainCommittedRecords: 10_000 });
  try {
    assertTakeover(await takeoverScenario(bus, { prefix: '', waitMs: 10_000 }));
  } finally {
    await bus.close();
  }
});

test('a member restarted with a committed offset rebuilds from the partition, not from empty windows', async () => {
  const envelopes = readFile(SLOW_BF);
  const expected = reference(envelopes);
  const origin = 'raw.auth:0';
  const eventMatcher = createEventMatcher(options());
  const bus = new MemoryBus({ retainCommittedRecords: 10_000 });
  const topic = 'matches';
  // Two partitions: the groups of the slow brute force land on one or both; each is rebuilt.
  await bus.createTopics([{ name: topic, partitions: 2 }]);
  const a = member(bus, topic, [origin]);
  await a.role.ready;
  await bus.publish(topic, eventMatcher.matchEvents(envelopes.slice(0, 12), origin).map(matchRecord));
  await until('the first incarnation commits', () => committedAll(bus, 'correlate', topic));
  await a.role.stop();
  await a.run;
  const b = member(bus, topic, [origin]);
  await b.role.ready;
  await bus.publish(topic, eventMatcher.matchEvents(envelopes.slice(12), origin).map(matchRecord));
  await until('the second incarnation commits', () => committedAll(bus, 'correlate', topic));
  await b.role.stop();
  await b.run;
  const got = finalState([...a.alerts, ...b.alerts, ...b.state.advance().alerts]);
  assert.deepEqual(got, expected);
  await bus.close();
});

test('an origin delayed past the idle timeout (outage, backlog) is not dropped as late: the attack alerts with the uninterrupted id', () => {
  const attack = readFile(SLOW_BF); // Sep 30 12:11–12:22
  const busy = readFile(join(HUB, 'ssh-time-based-bf__ssh-time-based-bf.log')); // Sep 30 10:00–14:00
  const expected = reference([...attack, ...busy]);
  assert.ok(expected.size >= 1);
  let wall = 0;
  const state = createCorrelationState(options({ now: () => wall, idlePartitionMs: 5000 }));
  const matches = createEventMatcher(options({ now: () => wall }));
  state.assignPartitions(['raw.auth:0', 'raw.auth:1']);
  const alerts: Alert[] = [];
  alerts.push(...state.correlateMatches(matches.matchEvents(attack.slice(0, 5), 'raw.auth:0')).alerts);
  // raw.auth:0 is silent for 10 s of wall time while raw.auth:1 races two hours ahead.
  wall = 10_000;
  alerts.push(...state.correlateMatches(matches.matchEvents(busy, 'raw.auth:1')).alerts);
  assert.ok(
    state.stats().watermark > Number(attack[21].normalized.event_time),
    'the watermark passed the attack',
  );
  wall = 11_000;
  alerts.push(...state.correlateMatches(matches.matchEvents(attack.slice(5), 'raw.auth:0')).alerts);
  alerts.push(...state.advance().alerts);
  assert.equal(state.stats().lateDropped, 0);
  assert.deepEqual(finalState(alerts), expected);
});

test('one origin read through two matches partitions at different paces: its older matches on the slower partition are not late', () => {
  const attack = readFile(SLOW_BF); // Sep 30 12:11–12:22
  const busy = readFile(join(HUB, 'ssh-time-based-bf__ssh-time-based-bf.log')); // Sep 30 10:00–14:00
  const expected = reference([...attack, ...busy]);
  const origin = 'raw.auth:0';
  const matcher = createEventMatcher(options({ now: () => RECEIVED }));
  // One input partition in event-time order; the re-keying puts the slow brute force's groups on
  // matches partition 0 and the rest on partition 1, which the member happens to read first.
  const sorted = [...attack, ...busy].sort(
    (a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time),
  );
  const messages = matcher.matchEvents(sorted, origin);
  const attackIds = new Set(attack.map((e) => e.id));
  const idOf = (m: (typeof messages)[number]) => (m.type === 'event' ? m.event_id : m.match.event_id);
  const attackMessages = messages.filter((m) => attackIds.has(idOf(m)));
  const busyMessages = messages.filter((m) => !attackIds.has(idOf(m)));
  assert.ok(attackMessages.length > 0 && busyMessages.length > 0);
  const run = (channels: boolean) => {
    const state = createCorrelationState(options({ now: () => RECEIVED }));
    const alerts: Alert[] = [
      ...state.correlateMatches(busyMessages, channels ? '1' : undefined).alerts,
      ...state.correlateMatches(attackMessages, channels ? '0' : undefined).alerts,
      ...state.advance().alerts,
    ];
    return { alerts: finalState(alerts), late: state.stats().lateDropped };
  };
  const perChannel = run(true);
  assert.equal(perChannel.late, 0);
  assert.deepEqual(perChannel.alerts, expected);
  const perOrigin = run(false);
  assert.ok(perOrigin.late > 0, 'one clock per origin drops the slower partition as late');
  assert.notDeepEqual(perOrigin.alerts, expected);
});

/** The pack's failed-login building block and a correlation decided at window close (a range). */
function atCloseRuleSet() {
  const pack = readFileSync(join(RULES, 'ssh_brute_force_source.yml'), 'utf8').split(/^---$/m)[0];
  const correlation = `title: Some failed logins from one source, a range decided at close
id: 5f0f3a52-3d0e-4d8e-9f55-7a4c1c0f6a01
name: failures_in_range
correlation:
    type: event_count
    rules:
        - auth_failed_login
    group-by:
        - src_ip
    timespan: 1h
    condition:
        gte: 5
        lte: 1000
level: medium
`;
  const dir = mkdtempSync(join(tmpdir(), 'socstream-atclose-'));
  writeFileSync(join(dir, 'rules.yml'), `${pack.trim()}\n---\n${correlation}`);
  return loadRules([dir]);
}

test('a window decided at close, on a partition silent after a takeover: the new owner rebuilds it on assignment and closes it', async () => {
  const rules = atCloseRuleSet();
  assert.deepEqual(rules.problems, []);
  const opts = (): DetectorOptions => ({
    ruleSet: rules,
    matcher: createMatcher(rules.rules),
    config: detectSchema.parse({}),
    now: () => RECEIVED,
  });
  const envelopes = readFile(SLOW_BF);
  const detector = createDetector(opts());
  const expected = finalState([...detector.process(envelopes), ...detector.advance()]);
  assert.equal(expected.size, 1, 'the reference raises the range alert once, at close');
  const origin = 'raw.auth:0';
  const bus = new MemoryBus({ retainCommittedRecords: 10_000 });
  const topic = 'matches';
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  const start = (state: ReturnType<typeof createCorrelationState>, alerts: Alert[]) =>
    createCorrelateRole({
      bus,
      group: 'correlate',
      topic,
      state,
      origins: [origin],
      output: { name: 'memory', write: async (a) => void alerts.push(...a), stop: async () => {} },
      ctx: { logger: silent, telemetry: createTelemetry({ defaultMetrics: false }) },
      idleAdvanceMs: 20,
    });
  const aAlerts: Alert[] = [];
  const a = start(createCorrelationState(opts()), aAlerts);
  const aRun = a.run();
  await a.ready;
  await bus.publish(topic, createEventMatcher(opts()).matchEvents(envelopes, origin).map(matchRecord));
  await until('the first owner commits', () => committedAll(bus, 'correlate', topic));
  await a.stop(); // gone before the window closed: it raised nothing
  await aRun;
  assert.deepEqual(aAlerts, []);
  const bState = createCorrelationState(opts());
  const bAlerts: Alert[] = [];
  const b = start(bState, bAlerts);
  const bRun = b.run();
  await b.ready;
  // No record follows on the partition: only the rebuild on assignment can fill the window.
  await until('the new owner rebuilds its window', async () => bState.stats().groups > 0);
  await b.stop();
  await bRun;
  assert.deepEqual(finalState([...bAlerts, ...bState.advance().alerts]), expected);
  await bus.close();
});
