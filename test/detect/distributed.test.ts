/**
 * Detection distributed over partitions (issue 5, ARCHITECTURE.md "Two ways to run"):
 * - per-partition event clocks: real sshd logs split over partitions and delivered in interleaved
 *   batches detect what the logs merged in event-time order detect;
 * - re-keying: events → MatchMessages (JSON on the wire) → partitioned by rule + group key →
 *   one correlation state per partition gives the in-process detector's alerts, same ids.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { partitionForKey } from '../../src/bus/partitioner.ts';
import { detectSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import {
  createCorrelationState,
  createDetector,
  createEventMatcher,
  type DetectorOptions,
} from '../../src/detect/detector.ts';
import { type MatchMessage, messageKey } from '../../src/detect/matches.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { createMatcher } from '../../src/detect/sigma/matcher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';

const HUB = new URL('../fixtures/detect/crowdsec-hub/', import.meta.url).pathname;
const RULES = new URL('../../rules/', import.meta.url).pathname;
const RULE_FIXTURES = join(RULES, 'fixtures');
/** Syslog lines carry no year: every file is read as received on the same day. */
const RECEIVED = Date.UTC(2026, 10, 1);

const ruleSet = loadRules([RULES]);
const matcher = createMatcher(ruleSet.rules);
const normalizer = createNormalizer();

function options(over: Partial<DetectorOptions> = {}): DetectorOptions {
  return { ruleSet, matcher, config: detectSchema.parse({}), now: () => RECEIVED, ...over };
}

function readFile(file: string, format: string): Envelope[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  return createEnvelopeReader({ name: file, format, normalizer, receivedAt: RECEIVED }).read(lines);
}

/** One stream per file: each file is what one input partition delivers, in its own order. */
function hubPartitions(): Envelope[][] {
  return readdirSync(HUB)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => readFile(join(HUB, f), 'sshd'));
}

function byEventTime(streams: Envelope[][]): Envelope[] {
  return streams.flat().sort((a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time));
}

/** Final state per alert id (an alert is reported again each time it is updated). */
function finalState(alerts: Alert[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of alerts) out.set(a.id, `${a.rule_id} ${JSON.stringify(a.group)} count=${a.count}`);
  return new Map([...out].sort());
}

/** Round-robin over the partitions, `size` events at a time, as a consumer polling them would. */
function interleave(streams: Envelope[][], size: number): Array<{ partition: number; batch: Envelope[] }> {
  const out: Array<{ partition: number; batch: Envelope[] }> = [];
  for (let offset = 0; streams.some((s) => offset < s.length); offset += size) {
    streams.forEach((s, partition) => {
      if (offset < s.length) out.push({ partition, batch: s.slice(offset, offset + size) });
    });
  }
  return out;
}

/** The alerts of `expected` that `got` lacks, and whether the rest agree exactly. */
function compare(got: Map<string, string>, expected: Map<string, string>) {
  const missing = [...expected.keys()].filter((id) => !got.has(id)).map((id) => expected.get(id));
  const rest = new Map([...expected].filter(([id]) => got.has(id)));
  return { missing, agrees: JSON.stringify([...rest]) === JSON.stringify([...got]) };
}

test('per-partition watermarks: sshd logs split over partitions, interleaved, alert as the logs merged in order', () => {
  const streams = hubPartitions();
  assert.equal(streams.length, 17);
  const inOrder = createDetector(options());
  const expected = finalState([...inOrder.process(byEventTime(streams)), ...inOrder.advance()]);
  assert.equal(expected.size, 7, `the real logs contain brute force: ${[...expected.values()].join('; ')}`);

  const perPartition = createDetector(options());
  perPartition.assignPartitions(streams.map((_, p) => `events.auth:${p}`));
  const got: Alert[] = [];
  for (const { partition, batch } of interleave(streams, 3)) {
    got.push(...perPartition.process(batch, { partition: `events.auth:${partition}` }));
  }
  got.push(...perPartition.advance());
  const per = compare(finalState(got), expected);
  assert.ok(per.agrees, 'every alert raised is the one the ordered logs raise, same id and count');
  // src_ip 1.2.3.4 fails ten times in the 2022 file and once in a 2026 file of another partition.
  // Interleaved, the 2026 failure reaches the group first and its window slides to 2026; the 2022
  // failures (accepted, not late) arrive behind that window and are evaluated where they belong
  // (correlator.ts ingestBehind). Before that, this alert was the one missing.
  assert.deepEqual(per.missing, []);
  assert.equal(perPartition.stats().lateDropped, 0);

  // The control: one clock for every partition makes the partitions behind the leader "late".
  const oneClock = createDetector(options());
  const lost: Alert[] = [];
  for (const { batch } of interleave(streams, 3)) lost.push(...oneClock.process(batch));
  lost.push(...oneClock.advance());
  const single = compare(finalState(lost), expected);
  assert.ok(
    single.missing.length > per.missing.length,
    'a single clock misses alerts on interleaved partitions',
  );
  assert.ok(oneClock.stats().lateDropped > 0);
});

test('per-partition watermarks: an assigned partition holds the clock until it delivers or goes idle', () => {
  const streams = hubPartitions();
  const live = streams[12]; // sshd-logs (Feb–Dec)
  const old = streams[1]; // opnsense-sshd, RFC 5424, 2022: the tutu / 1.2.3.4 brute force
  let wall = RECEIVED;
  const d = createDetector(options({ now: () => wall }));
  d.assignPartitions(['auth:0', 'auth:1']);
  const half = live.length >> 1;
  d.process(live.slice(0, half), { partition: 'auth:0' });
  assert.equal(d.stats().watermark, Number.NEGATIVE_INFINITY, 'auth:1 has not delivered yet');
  // Within the idle timeout the old partition still counts: its brute force is not late.
  wall += 10_000;
  const alerts = d.process(old, { partition: 'auth:1' });
  assert.equal(d.stats().lateDropped, 0);
  assert.ok(alerts.some((a) => a.group.user === 'tutu'));
  const oldMax = Math.max(...old.map((e) => Number(e.normalized.event_time)));
  const liveMax = Math.max(...live.map((e) => Number(e.normalized.event_time)));
  assert.equal(d.stats().watermark, Math.min(oldMax, liveMax) - 60_000);

  // auth:1 falls silent for longer than idle_partition_ms (30 s): it stops holding the clock.
  wall += 31_000;
  d.process(live.slice(half), { partition: 'auth:0' });
  assert.equal(d.stats().watermark, liveMax - 60_000);
  // What it delivers afterwards behind the clock is late (Flink's idleness does the same).
  d.process(old, { partition: 'auth:1' });
  assert.ok(d.stats().lateDropped > 0);
});

const portScans = [
  ...readFile(join(RULE_FIXTURES, 'port_scan_vertical/positive.log'), 'zeek-json'),
  ...readFile(join(RULE_FIXTURES, 'port_sweep_horizontal/positive.log'), 'zeek-json'),
];

test('re-keying: match messages partitioned by rule + group key, one state per partition, give the in-process alerts', () => {
  const events = byEventTime([...hubPartitions(), portScans]);
  const inProcess = createDetector(options());
  const expected = finalState([...inProcess.process(events), ...inProcess.advance()]);
  const rules = new Set([...expected.values()].map((v) => v.split(' ')[0]));
  assert.ok(rules.size >= 4, `brute force, spray and scans: ${[...rules].join(', ')}`);

  const PARTITIONS = 4;
  const processSide = createEventMatcher(options());
  const messages = processSide.matchEvents(events, 'events.auth:0');
  const lanes: MatchMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const m of messages) {
    lanes[partitionForKey(messageKey(m), PARTITIONS)].push(JSON.parse(JSON.stringify(m)) as MatchMessage);
  }
  // The groups really are spread: no one partition holds them all.
  assert.ok(lanes.filter((l) => l.length > 0).length >= 3);
  // Each partition's worker takes 5 messages at a time, round-robin; chain hits it cannot decide
  // locally (success after brute force: a temporal_ordered over two rules) are re-published.
  const states = lanes.map(() => createCorrelationState(options()));
  const got: Alert[] = [];
  let forwarded = 0;
  const route = (forward: MatchMessage[]) => {
    for (const m of forward) {
      forwarded++;
      lanes[partitionForKey(messageKey(m), PARTITIONS)].push(JSON.parse(JSON.stringify(m)) as MatchMessage);
    }
  };
  while (lanes.some((l) => l.length > 0)) {
    states.forEach((state, p) => {
      const out = state.correlateMatches(lanes[p].splice(0, 5));
      got.push(...out.alerts);
      route(out.forward);
    });
  }
  for (let p = 0; p < PARTITIONS; p++) {
    const out = states[p].advance();
    got.push(...out.alerts);
    route(out.forward);
    got.push(...states[p].correlateMatches(lanes[p].splice(0)).alerts);
  }
  assert.ok(forwarded > 0, 'the chain parent was fed through the matches topic');
  assert.deepEqual(finalState(got), expected);
});

test('rechainedIds: the correlations fed by re-published chain hits (the pack: success after brute force only)', () => {
  const state = createCorrelationState(options());
  const byName = new Map(
    ruleSet.correlations.map(({ doc }) => [(doc as { name?: string }).name, (doc as { id: string }).id]),
  );
  // A temporal_ordered over a correlation and a rule: its inputs meet only on the matches topic.
  assert.deepEqual([...state.rechainedIds()], [byName.get('success_after_brute_force')]);
  // Its child alerts by itself and is fed by plain rule matches: not re-chained.
  assert.ok(!state.rechainedIds().has(byName.get('brute_force_from_source') as string));
});

test('a replayed input (a process member restarted before its commit) counts each match once: same alerts, same event ids', () => {
  // Real threat-analyzer lines and real sshd logs, one input partition each.
  const threat = readFile(join(RULE_FIXTURES, 'threat_high/positive.json'), 'threat-json');
  const sshd = hubPartitions()[0];
  const inputs = [
    { origin: 'raw.threat:0', events: threat },
    { origin: 'raw.auth:0', events: sshd },
  ];
  assert.ok(threat.length > 0 && sshd.length > 0, 'fixtures have events');
  const run = (replayFrom: number | undefined): Alert[] => {
    const matcherHalf = createEventMatcher(options());
    const state = createCorrelationState(options());
    const alerts: Alert[] = [];
    for (const { origin, events } of inputs) {
      const offsets = events.map((_, i) => i);
      // JSON on the wire, as the matches topic carries them.
      const wire = (from: number) =>
        JSON.parse(
          JSON.stringify(matcherHalf.matchEvents(events.slice(from), origin, [], offsets.slice(from))),
        ) as MatchMessage[];
      alerts.push(...state.correlateMatches(wire(0), '0').alerts);
      // The member died before committing: its input is read again from `replayFrom`.
      if (replayFrom !== undefined) alerts.push(...state.correlateMatches(wire(replayFrom), '0').alerts);
    }
    alerts.push(...state.advance().alerts);
    return alerts;
  };
  const clean = run(undefined);
  const replayed = run(0);
  const last = (alerts: Alert[]) => {
    const byId = new Map<string, Alert>();
    for (const a of alerts) byId.set(a.id, a);
    return new Map([...byId].map(([id, a]) => [id, { count: a.count, event_ids: a.event_ids }]));
  };
  assert.ok(clean.length > 0, 'the clean run alerts');
  assert.deepEqual(last(replayed), last(clean));
  for (const a of last(replayed).values())
    assert.equal(new Set(a.event_ids).size, a.event_ids.length, 'no event id twice in an alert');
});
