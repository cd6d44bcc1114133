import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTelemetry } from '../../../src/core/telemetry.ts';
import type { Alert } from '../../../src/detect/alert.ts';
import {
  type CorrelationMatch,
  createCorrelator,
  matchKey,
} from '../../../src/detect/correlate/correlator.ts';
import { parseCorrelation } from '../../../src/detect/correlate/parse.ts';
import { createDetector } from '../../../src/detect/detector.ts';
import { detectConfig, ev, kindRule, MIN } from '../helpers.ts';

const T0 = Date.UTC(2026, 0, 31, 10, 0, 0);

function corr(id: string, correlation: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { file: `${id}.yml`, doc: { title: `corr ${id}`, id, level: 'high', ...extra, correlation } };
}

function detector(rules: string[], correlations: ReturnType<typeof corr>[], over = {}) {
  return createDetector({
    ruleSet: { rules: rules.map((r) => kindRule(r, { name: `n_${r}` })), correlations },
    config: detectConfig({ suppression_seconds: 0, ...over }),
    now: () => 0,
  });
}

const count3 = corr('c3', {
  type: 'event_count',
  rules: ['fail'],
  'group-by': ['src_ip'],
  timespan: '5m',
  condition: { gte: 3 },
});

test('event_count fires exactly at the threshold, per group', () => {
  const d = detector(['fail'], [count3]);
  const a = d.process([
    ev('1', T0, 'fail', { src_ip: '10.0.0.1' }),
    ev('2', T0 + MIN, 'fail', { src_ip: '10.0.0.1' }),
  ]);
  assert.deepEqual(a, []);
  assert.deepEqual(d.process([ev('3', T0 + 2 * MIN, 'fail', { src_ip: '10.0.0.2' })]), [], 'other group');
  const fired = d.process([ev('4', T0 + 2 * MIN, 'fail', { src_ip: '10.0.0.1' })]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0].rule_id, 'c3');
  assert.deepEqual(fired[0].group, { src_ip: '10.0.0.1' });
  assert.equal(fired[0].count, 3);
  assert.deepEqual(fired[0].event_ids, ['1', '2', '4']);
  assert.equal(fired[0].first_seen, T0);
  assert.equal(fired[0].last_seen, T0 + 2 * MIN);
  assert.equal(fired[0].level, 'high');
  assert.match(fired[0].summary, /3 events for src_ip=10\.0\.0\.1 within 5m/);
});

test('window edges: an event exactly timespan after the first still counts, 1 ms more does not', () => {
  const inside = detector(['fail'], [count3]);
  const a = inside.process(
    [T0, T0 + 150_000, T0 + 5 * MIN].map((t, i) => ev(`e${i}`, t, 'fail', { src_ip: '1.1.1.1' })),
  );
  assert.equal(a.length, 1);
  const outside = detector(['fail'], [count3]);
  const b = outside.process(
    [T0, T0 + 150_000, T0 + 5 * MIN + 1].map((t, i) => ev(`e${i}`, t, 'fail', { src_ip: '1.1.1.1' })),
  );
  assert.deepEqual(b, []);
});

test('further events while the condition holds update the same alert (same anchor, same id)', () => {
  const d = detector(['fail'], [count3]);
  const first = d.process([0, 1, 2].map((i) => ev(`e${i}`, T0 + i * 1000, 'fail', { src_ip: '1.1.1.1' })));
  const next = d.process([ev('e3', T0 + 3000, 'fail', { src_ip: '1.1.1.1' })]);
  assert.equal(next.length, 1);
  assert.equal(next[0].id, first[0].id);
  assert.equal(next[0].count, 4);
  assert.deepEqual(next[0].event_ids, ['e0', 'e1', 'e2', 'e3']);
  assert.equal(d.stats().alertsRaised, 1);
  assert.equal(d.stats().alertsUpdated, 1);
});

test('late events: beyond the allowed lateness they are dropped and counted, within it they count', () => {
  const d = detector(['fail'], [count3], { allowed_lateness_ms: 10_000 });
  d.process([ev('a', T0 + 10 * MIN, 'fail', { src_ip: '9.9.9.9' })]);
  // watermark = T0+10m-10s: 10.001 s late is dropped, 9.999 s late is accepted.
  d.process([ev('late', T0 + 10 * MIN - 10_001, 'fail', { src_ip: '9.9.9.9' })]);
  assert.equal(d.stats().lateDropped, 1);
  const fired = d.process([
    ev('ok', T0 + 10 * MIN - 9_999, 'fail', { src_ip: '9.9.9.9' }),
    ev('b', T0 + 10 * MIN + 1, 'fail', { src_ip: '9.9.9.9' }),
  ]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0].count, 3);
  assert.equal(fired[0].first_seen, T0 + 10 * MIN - 9_999);
});

test('value_count counts distinct values of the field per group (password spray)', () => {
  const spray = corr('spray', {
    type: 'value_count',
    rules: ['fail'],
    'group-by': ['src_ip'],
    timespan: '10m',
    condition: { field: 'user', gte: 3 },
  });
  const d = detector(['fail'], [spray]);
  const same = ['root', 'root', 'root', 'admin'].map((u, i) =>
    ev(`s${i}`, T0 + i, 'fail', { src_ip: '5.5.5.5', user: u }),
  );
  assert.deepEqual(d.process(same), [], '2 distinct users');
  const noUser = ev('x', T0 + 10, 'fail', { src_ip: '5.5.5.5' });
  assert.deepEqual(d.process([noUser]), [], 'an event without the field is not a value');
  const fired = d.process([ev('s9', T0 + 20, 'fail', { src_ip: '5.5.5.5', user: 'oracle' })]);
  assert.equal(fired.length, 1);
  assert.match(fired[0].summary, /3 distinct user/);
});

test('temporal: every referenced rule within the timespan, in any order', () => {
  const t = corr('t', { type: 'temporal', rules: ['a', 'b', 'c'], 'group-by': ['host'], timespan: '5m' });
  const d = detector(['a', 'b', 'c'], [t]);
  assert.deepEqual(d.process([ev('1', T0, 'c', { host: 'h' }), ev('2', T0 + MIN, 'a', { host: 'h' })]), []);
  assert.deepEqual(d.process([ev('3', T0 + 2 * MIN, 'b', { host: 'other' })]), [], 'other host');
  const fired = d.process([ev('4', T0 + 5 * MIN, 'b', { host: 'h' })]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0].first_seen, T0);
  const tooLate = detector(['a', 'b', 'c'], [t]);
  tooLate.process([ev('1', T0, 'c', { host: 'h' }), ev('2', T0 + MIN, 'a', { host: 'h' })]);
  assert.deepEqual(tooLate.process([ev('4', T0 + 5 * MIN + 1, 'b', { host: 'h' })]), []);
});

test('temporal with a condition counts distinct rules seen', () => {
  const t = corr('t2', {
    type: 'temporal',
    rules: ['a', 'b', 'c'],
    'group-by': ['host'],
    timespan: '5m',
    condition: { gte: 2 },
  });
  const d = detector(['a', 'b', 'c'], [t]);
  assert.deepEqual(d.process([ev('1', T0, 'a', { host: 'h' }), ev('2', T0 + 1, 'a', { host: 'h' })]), []);
  assert.equal(d.process([ev('3', T0 + 2, 'c', { host: 'h' })]).length, 1);
});

test('temporal_ordered: only in the listed order', () => {
  const o = corr('o', { type: 'temporal_ordered', rules: ['a', 'b'], 'group-by': ['user'], timespan: '1h' });
  const inOrder = detector(['a', 'b'], [o]);
  assert.equal(
    inOrder.process([ev('1', T0, 'a', { user: 'u' }), ev('2', T0 + 1000, 'b', { user: 'u' })]).length,
    1,
  );
  const reversed = detector(['a', 'b'], [o]);
  assert.deepEqual(
    reversed.process([ev('1', T0, 'b', { user: 'u' }), ev('2', T0 + 1000, 'a', { user: 'u' })]),
    [],
  );
  // b, a, then b again: the second b completes a → b.
  assert.equal(reversed.process([ev('3', T0 + 2000, 'b', { user: 'u' })]).length, 1);
});

test('correlation of correlations: the spec example (many failures, then a success, same user)', () => {
  const many = corr(
    'many',
    {
      type: 'event_count',
      rules: ['failed_login'],
      'group-by': ['user'],
      timespan: '10m',
      condition: { gte: 10 },
    },
    { name: 'multiple_failed_login', level: undefined },
  );
  const outer = corr('outer', {
    type: 'temporal_ordered',
    rules: ['multiple_failed_login', 'successful_login'],
    'group-by': ['user'],
    timespan: '10m',
  });
  const rules = [kindRule('f', { name: 'failed_login' }), kindRule('s', { name: 'successful_login' })];
  const make = () =>
    createDetector({ ruleSet: { rules, correlations: [outer, many] }, config: detectConfig(), now: () => 0 });
  const fails = (n: number) =>
    Array.from({ length: n }, (_, i) => ev(`f${i}`, T0 + i * 1000, 'f', { user: 'bob' }));
  const d = make();
  const alerts = d.process([...fails(10), ev('ok', T0 + 20_000, 's', { user: 'bob' })]);
  // The inner correlation is referenced without `generate`, so only the outer one alerts.
  assert.deepEqual(
    alerts.map((a) => a.rule_id),
    ['outer'],
  );
  assert.deepEqual(alerts[0].group, { user: 'bob' });
  const nine = make();
  assert.deepEqual(nine.process([...fails(9), ev('ok', T0 + 20_000, 's', { user: 'bob' })]), []);
  const otherUser = make();
  assert.deepEqual(otherUser.process([...fails(10), ev('ok', T0 + 20_000, 's', { user: 'eve' })]), []);
});

test('generate: true makes the referenced rules alert on their own too', () => {
  const gen = corr('g', {
    type: 'event_count',
    rules: ['a'],
    'group-by': ['host'],
    timespan: '1m',
    condition: { gte: 2 },
    generate: true,
  });
  const d = detector(['a'], [gen], { suppression_seconds: 300 });
  const alerts = d.process([ev('1', T0, 'a', { host: 'h' }), ev('2', T0 + 1, 'a', { host: 'h' })]);
  assert.deepEqual(alerts.map((a) => a.rule_id).sort(), ['a', 'g']);
  const plain = detector(
    ['a'],
    [
      corr('p', {
        type: 'event_count',
        rules: ['a'],
        'group-by': ['host'],
        timespan: '1m',
        condition: { gte: 2 },
      }),
    ],
  );
  assert.deepEqual(
    plain
      .process([ev('1', T0, 'a', { host: 'h' }), ev('2', T0 + 1, 'a', { host: 'h' })])
      .map((a) => a.rule_id),
    ['p'],
  );
});

test('aliases: group-by resolves to different fields per referenced rule (spec example)', () => {
  const t = corr('alias', {
    type: 'temporal',
    rules: ['internal_error', 'new_network_connection'],
    'group-by': ['internal_ip', 'remote_ip'],
    timespan: '10s',
    aliases: {
      internal_ip: { internal_error: 'destination.ip', new_network_connection: 'source.ip' },
      remote_ip: { internal_error: 'source.ip', new_network_connection: 'destination.ip' },
    },
  });
  const rules = [
    kindRule('e', { name: 'internal_error' }),
    kindRule('n', { name: 'new_network_connection' }),
  ];
  const make = () =>
    createDetector({ ruleSet: { rules, correlations: [t] }, config: detectConfig(), now: () => 0 });
  const err = (id: string, t1: number, dst: string, src: string) => ({
    ...ev(id, t1, 'e'),
    raw: { destination: { ip: dst }, source: { ip: src } },
  });
  const conn = (id: string, t1: number, src: string, dst: string) => ({
    ...ev(id, t1, 'n'),
    raw: { source: { ip: src }, destination: { ip: dst } },
  });
  const d = make();
  const alerts = d.process([
    err('1', T0, '10.0.0.1', '8.8.8.8'),
    conn('2', T0 + 5000, '10.0.0.1', '8.8.8.8'),
  ]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0].group, { internal_ip: '10.0.0.1', remote_ip: '8.8.8.8' });
  const swapped = make();
  assert.deepEqual(
    swapped.process([err('1', T0, '10.0.0.1', '8.8.8.8'), conn('2', T0 + 5000, '8.8.8.8', '10.0.0.1')]),
    [],
  );
});

test('upper-bound conditions are decided when the window closes (lt, ranges)', () => {
  const few = corr('few', {
    type: 'event_count',
    rules: ['a'],
    'group-by': ['host'],
    timespan: '1m',
    condition: { lt: 3 },
  });
  const d = detector(['a'], [few], { allowed_lateness_ms: 1000 });
  assert.deepEqual(
    d.process([ev('1', T0, 'a', { host: 'quiet' }), ev('2', T0 + 1, 'a', { host: 'quiet' })]),
    [],
  );
  d.process([0, 1, 2].map((i) => ev(`b${i}`, T0 + i, 'a', { host: 'busy' })));
  assert.equal(d.stats().lateDropped, 0);
  // The stream goes quiet for 1m + 2s of wall time: the watermark passes both window ends;
  // only the quiet host has fewer than 3 events.
  const closed = d.advance(MIN + 2000);
  assert.deepEqual(
    closed.map((a) => a.group.host),
    ['quiet'],
  );
  assert.equal(closed[0].count, 2);
  const range = corr('range', {
    type: 'event_count',
    rules: ['a'],
    'group-by': ['host'],
    timespan: '1m',
    condition: { gt: 1, lte: 2 },
  });
  const r = detector(['a'], [range]);
  r.process([
    ev('1', T0, 'a', { host: 'x' }),
    ev('2', T0 + 1, 'a', { host: 'x' }),
    ev('3', T0, 'a', { host: 'y' }),
  ]);
  assert.deepEqual(
    r.advance().map((a) => a.group.host),
    ['x'],
    'end of input closes every window',
  );
});

test('value_sum fires when the sum passes the limit; value_avg is decided at window close', () => {
  const sum = corr('sum', {
    type: 'value_sum',
    rules: ['a'],
    'group-by': ['src_ip'],
    timespan: '1h',
    condition: { field: 'bytes_out', gt: 1000 },
  });
  const d = detector(['a'], [sum]);
  assert.deepEqual(
    d.process([
      ev('1', T0, 'a', { src_ip: 's', bytes_out: 600 }),
      ev('2', T0 + 1, 'a', { src_ip: 's', bytes_out: 'n/a' }),
    ]),
    [],
  );
  const fired = d.process([ev('3', T0 + 2, 'a', { src_ip: 's', bytes_out: 401 })]);
  assert.equal(fired.length, 1);
  assert.match(fired[0].summary, /sum of bytes_out 1001/);
  const avg = corr('avg', {
    type: 'value_avg',
    rules: ['a'],
    'group-by': ['src_ip'],
    timespan: '1h',
    condition: { field: 'bytes_out', gt: 500 },
  });
  const v = detector(['a'], [avg]);
  assert.deepEqual(
    v.process([
      ev('1', T0, 'a', { src_ip: 's', bytes_out: 900 }),
      ev('2', T0 + 1, 'a', { src_ip: 's', bytes_out: 200 }),
    ]),
    [],
  );
  const closed = v.advance();
  assert.equal(closed.length, 1);
  assert.match(closed[0].summary, /average bytes_out 550/);
});

test('value_percentile and unknown references are reported, not run', () => {
  const p = corr('p', {
    type: 'value_percentile',
    rules: ['a'],
    'group-by': ['host'],
    timespan: '1h',
    condition: { field: 'x', lte: 1 },
  });
  const u = corr('u', {
    type: 'event_count',
    rules: ['nope'],
    'group-by': ['host'],
    timespan: '1h',
    condition: { gte: 1 },
  });
  const d = detector(['a'], [p, u]);
  const problems = d.stats().problems;
  assert.equal(problems.length, 2);
  assert.match(problems[0], /unsupported feature: value_percentile/);
  assert.match(problems[1], /references unknown rule\(s\) 'nope'/);
});

test('determinism: the same events give the same alerts however they are batched', () => {
  const events = Array.from({ length: 60 }, (_, i) =>
    ev(`e${i}`, T0 + ((i * 7919) % 50) * 1000, 'fail', { src_ip: `10.0.0.${i % 3}`, user: `u${i % 7}` }),
  );
  const run = (batch: number) => {
    const d = detector(['fail'], [count3], { allowed_lateness_ms: 20_000 });
    const seen = new Map<string, unknown>();
    for (let i = 0; i < events.length; i += batch)
      for (const a of d.process(events.slice(i, i + batch))) seen.set(a.id, a);
    for (const a of d.advance()) seen.set(a.id, a);
    return { alerts: [...seen.entries()].sort(), late: d.stats().lateDropped };
  };
  const whole = run(60);
  assert.ok(whole.alerts.length > 0);
  assert.ok(whole.late > 0, 'the shuffled times include late events');
  assert.deepEqual(run(1), whole);
  assert.deepEqual(run(7), whole);
});

test('state rebuilds from replayed matches (the distributed re-keying unit)', () => {
  const parsed = parseCorrelation(count3.doc, count3.file);
  assert.ok(parsed.ok);
  const matches: CorrelationMatch[] = [0, 1, 2, 3].map((i) => ({
    correlation_id: 'c3',
    rule_id: 'fail',
    group: ['10.0.0.1'],
    event_time: T0 + i * 1000,
    event_id: `m${i}`,
  }));
  const opts = { refIds: ['fail'], maxGroups: 10, maxEventIds: 10 };
  const live = createCorrelator(parsed.def, opts);
  const liveHits = matches.flatMap((m) => live.ingest(m, 0));
  const rebuilt = createCorrelator(parsed.def, opts);
  const replayed = (JSON.parse(JSON.stringify(matches)) as CorrelationMatch[]).flatMap((m) =>
    rebuilt.ingest(m, 0),
  );
  assert.deepEqual(
    replayed.map(({ def, ...h }) => h),
    liveHits.map(({ def, ...h }) => h),
  );
  assert.equal(liveHits.length, 2);
});

test('state is bounded: the least recently updated group is evicted and counted', async () => {
  const telemetry = createTelemetry({ defaultMetrics: false });
  const d = createDetector({
    ruleSet: { rules: [kindRule('fail')], correlations: [count3] },
    config: detectConfig({ max_groups_per_rule: 2 }),
    telemetry,
    now: () => 0,
  });
  d.process([ev('1', T0, 'fail', { src_ip: 'a' }), ev('2', T0, 'fail', { src_ip: 'a' })]);
  d.process([ev('3', T0, 'fail', { src_ip: 'b' }), ev('4', T0, 'fail', { src_ip: 'c' })]);
  assert.equal(d.stats().evictions, 1);
  assert.equal(d.stats().groups, 2);
  // 'a' was evicted: its third event starts over instead of firing (and evicts 'b').
  assert.deepEqual(d.process([ev('5', T0 + 1, 'fail', { src_ip: 'a' })]), []);
  assert.equal(d.stats().evictions, 2);
  d.advance(500);
  const text = await telemetry.registry.metrics();
  assert.match(text, /socstream_correlation_evictions_total\{rule="c3"\} 2/);
  assert.match(text, /socstream_correlation_groups\{rule="c3"\} 2/);
  d.process([ev('late', T0 - 120_000, 'fail', { src_ip: 'z' })]);
  d.advance(500);
  assert.match(await telemetry.registry.metrics(), /socstream_correlation_late_events_total\{rule="c3"\} 1/);
});

test('idle advance: wall time since the last batch moves the event clock; a busy replay is not pushed ahead', () => {
  const few = corr('few2', {
    type: 'event_count',
    rules: ['a'],
    'group-by': ['host'],
    timespan: '1m',
    condition: { lt: 3 },
  });
  let wall = Date.UTC(2026, 10, 23, 5, 0, 0); // "now", ten months after the replayed events
  const make = () =>
    createDetector({
      ruleSet: { rules: [kindRule('a')], correlations: [few] },
      config: detectConfig({ allowed_lateness_ms: 10_000 }),
      now: () => wall,
    });
  // Old events (2026-01-31) replayed now: 30 s of wall time later the clock moved 30 s, not to "now".
  const replay = make();
  replay.process([ev('1', T0, 'a', { host: 'h' })]);
  wall += 30_000;
  assert.deepEqual(replay.advance(wall), []);
  assert.equal(replay.stats().watermark, T0 + 30_000 - 10_000);
  replay.process([ev('2', T0 + 25_000, 'a', { host: 'h' })]);
  assert.equal(replay.stats().lateDropped, 0, 'the next old event is not late');
  // A live stream that went quiet: 71 s after the last batch the 1 m window (+10 s lateness) closes.
  const live = make();
  live.process([ev('1', T0, 'a', { host: 'h' }), ev('2', T0 + 500, 'a', { host: 'h' })]);
  wall += 71_000;
  const closed = live.advance(wall);
  assert.deepEqual(
    closed.map((a) => [a.group.host, a.count]),
    [['h', 2]],
  );
});

test('distributed split: extract → re-key by matchKey → per-partition workers gives the embedded alerts', () => {
  const many = corr('bf', {
    type: 'event_count',
    rules: ['fail'],
    'group-by': ['src_ip'],
    timespan: '5m',
    condition: { gte: 5 },
  });
  const spray = corr('spray2', {
    type: 'value_count',
    rules: ['fail'],
    'group-by': ['user'],
    timespan: '5m',
    condition: { field: 'src_ip', gte: 3 },
  });
  const ruleSet = {
    rules: [kindRule('fail'), kindRule('note', { level: 'high' })],
    correlations: [many, spray],
  };
  const make = () => createDetector({ ruleSet, config: detectConfig(), now: () => 0 });
  const events = Array.from({ length: 40 }, (_, i) =>
    ev(`e${i}`, T0 + i * 1000, i % 10 === 9 ? 'note' : 'fail', {
      src_ip: `10.0.0.${i % 4}`,
      user: `u${i % 3}`,
    }),
  );
  const summarize = (alerts: Alert[]) =>
    [...new Map(alerts.map((a) => [a.id, `${a.rule_id}:${a.count}`])).entries()].sort();

  const embedded = make();
  const expected = summarize([...embedded.process(events), ...embedded.advance()]);

  const processSide = make();
  const { alerts: single, matches } = processSide.extract(events);
  assert.ok(
    single.every((a) => a.rule_id === 'note'),
    'single-event rules alert on the process side',
  );
  assert.ok(matches.length > 0);
  // Three partitions, order kept per partition, as Kafka does for one key.
  const partitions: CorrelationMatch[][] = [[], [], []];
  for (const m of matches) {
    const key = matchKey(m);
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    partitions[h % 3].push(JSON.parse(JSON.stringify(m)) as CorrelationMatch);
  }
  const workerAlerts = partitions.flatMap((p) => {
    const worker = make();
    return [...worker.ingestMatches(p), ...worker.advance()];
  });
  assert.deepEqual(summarize([...single, ...workerAlerts]), expected);
  assert.ok(
    expected.some(([, v]) => v.startsWith('bf:')) && expected.some(([, v]) => v.startsWith('spray2:')),
  );
});

test('edges: temporal_ordered and value_count windows are inclusive at exactly the timespan, not 1 ms beyond', () => {
  const o = corr('o2', { type: 'temporal_ordered', rules: ['a', 'b'], 'group-by': ['user'], timespan: '1h' });
  const at = (dt: number) => {
    const d = detector(['a', 'b'], [o]);
    return d.process([ev('1', T0, 'a', { user: 'u' }), ev('2', T0 + dt, 'b', { user: 'u' })]).length;
  };
  assert.equal(at(3_600_000), 1);
  assert.equal(at(3_600_001), 0);
  const vc = corr('vc', {
    type: 'value_count',
    rules: ['a'],
    'group-by': ['src_ip'],
    timespan: '1m',
    condition: { field: 'user', gte: 3 },
  });
  const users = (times: number[]) => {
    const d = detector(['a'], [vc]);
    return d.process(times.map((t, i) => ev(`${i}`, T0 + t, 'a', { src_ip: 's', user: `u${i}` }))).length;
  };
  assert.equal(users([0, 30_000, 60_000]), 1);
  assert.equal(users([0, 30_000, 60_001]), 0, 'the first user left the window: 2 distinct');
  // Same user again does not add a distinct value.
  const d = detector(['a'], [vc]);
  const same = ['x', 'y', 'x', 'y'].map((u, i) => ev(`s${i}`, T0 + i, 'a', { src_ip: 's', user: u }));
  assert.deepEqual(d.process(same), []);
});

test('edges: gt is strict, gte is not (value_sum at exactly the limit)', () => {
  const mk = (op: string) =>
    detector(
      ['a'],
      [
        corr(`sum-${op}`, {
          type: 'value_sum',
          rules: ['a'],
          'group-by': ['src_ip'],
          timespan: '1h',
          condition: { field: 'bytes_out', [op]: 1000 },
        }),
      ],
    );
  const evs = [
    ev('1', T0, 'a', { src_ip: 's', bytes_out: 400 }),
    ev('2', T0 + 1, 'a', { src_ip: 's', bytes_out: 600 }),
  ];
  assert.equal(mk('gt').process(evs).length, 0);
  assert.equal(mk('gte').process(evs).length, 1);
});

test('temporal_ordered with a rule listed twice needs two different events of it', () => {
  const o = corr('twice', {
    type: 'temporal_ordered',
    rules: ['a', 'a', 'b'],
    'group-by': ['user'],
    timespan: '1h',
  });
  const once = detector(['a', 'b'], [o]);
  assert.deepEqual(once.process([ev('1', T0, 'a', { user: 'u' }), ev('2', T0 + 1, 'b', { user: 'u' })]), []);
  const twice = detector(['a', 'b'], [o]);
  const fired = twice.process([
    ev('1', T0, 'a', { user: 'u' }),
    ev('2', T0 + 1, 'a', { user: 'u' }),
    ev('3', T0 + 2, 'b', { user: 'u' }),
  ]);
  assert.equal(fired.length, 1);
});

test('a match delivered twice (same event id and rule) counts once; one event matching two referenced rules counts twice', () => {
  const d = detector(['fail'], [count3]);
  const first = ev('1', T0, 'fail', { src_ip: '10.0.0.1' });
  const second = ev('2', T0 + MIN, 'fail', { src_ip: '10.0.0.1' });
  // A process-role replay after a crash delivers the same events again: still 2 of 3, no alert.
  assert.deepEqual(d.process([first, second, first, second]), []);
  assert.equal(d.stats().duplicates, 2);
  const fired = d.process([ev('3', T0 + 2 * MIN, 'fail', { src_ip: '10.0.0.1' })]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0].count, 3);

  const either = corr('two', {
    type: 'event_count',
    rules: ['a', 'b'],
    'group-by': ['src_ip'],
    timespan: '5m',
    condition: { gte: 2 },
  });
  const both = createDetector({
    ruleSet: {
      rules: [
        kindRule('a'),
        { ...kindRule('b'), match: (env) => env.normalized.kind === 'a' || env.normalized.kind === 'b' },
      ],
      correlations: [either],
    },
    config: detectConfig({ suppression_seconds: 0 }),
    now: () => 0,
  });
  const twice = both.process([ev('x', T0, 'a', { src_ip: '10.0.0.9' })]);
  assert.equal(twice.length, 1, 'matched by a and by b: two matches of one event');
  assert.equal(both.stats().duplicates, 0);
});

/** A match of count3's rule for one group. */
function failMatch(group: string, id: string, t: number): CorrelationMatch {
  return { correlation_id: 'c3', rule_id: 'fail', group: [group], event_time: t, event_id: id };
}

test('a burst older than its group window (a lagging partition) is not lost: it fires as in order, with the in-order anchor', () => {
  // The shape the 500,000-event crash run met: one user's ten failures from an attacker's partition
  // that lagged behind (its process member was killed), after later failures of the same user from
  // other partitions had moved the group's window half an hour on.
  const parsed = parseCorrelation(count3.doc, count3.file);
  assert.ok(parsed.ok);
  const m = (id: string, t: number) => failMatch('ivan', id, t);
  const later = [m('x1', T0 + 30 * MIN), m('x2', T0 + 40 * MIN)];
  const burst = [0, 1, 2, 3, 4].map((i) => m(`b${i}`, T0 + i * 2000));
  const opts = { refIds: ['fail'], maxGroups: 10, maxEventIds: 10 };
  const summary = (hits: ReturnType<ReturnType<typeof createCorrelator>['ingest']>) =>
    hits.map((h) => ({ anchor: h.window_start, count: h.count, first: h.first_seen, last: h.last_seen }));

  const inOrder = createCorrelator(parsed.def, opts);
  const ref = [...burst, ...later].flatMap((x) => inOrder.ingest(x, Number.NEGATIVE_INFINITY));
  const lagging = createCorrelator(parsed.def, opts);
  const got = [...later, ...burst].flatMap((x) => lagging.ingest(x, Number.NEGATIVE_INFINITY));
  assert.equal(ref.length, 3, 'in order: fires at the third failure, updates twice');
  assert.deepEqual(
    summary(got),
    summary(ref),
    'the same streak: anchored at the first failure, growing with each',
  );
  assert.deepEqual(got[0].event_ids, ['b0', 'b1', 'b2'], 'the new alert carries its window');
  assert.deepEqual(
    got.slice(1).map((h) => h.event_ids),
    [['b3'], ['b4']],
    'updates add one event each',
  );
  assert.deepEqual(
    got.map((h) => h.added),
    [3, 1, 1],
  );
  // The burst's entries are kept for later lagging matches, and a duplicate still counts once.
  assert.deepEqual(lagging.ingest(m('b2', T0 + 4000), Number.NEGATIVE_INFINITY), []);
  assert.equal(lagging.stats().duplicates, 1);
});

test('a match behind its group window that completes nothing raises nothing, and one inside a held streak only updates it', () => {
  const parsed = parseCorrelation(count3.doc, count3.file);
  assert.ok(parsed.ok);
  const m = (id: string, t: number) => failMatch('g', id, t);
  const c = createCorrelator(parsed.def, { refIds: ['fail'], maxGroups: 10, maxEventIds: 10 });
  const neg = Number.NEGATIVE_INFINITY;
  // A streak at T0 (three failures), then the group moves on an hour.
  const first = [0, 1, 2].flatMap((i) => c.ingest(m(`a${i}`, T0 + i * 1000), neg));
  assert.equal(first.length, 1);
  assert.deepEqual(c.ingest(m('late', T0 + 60 * MIN), neg), []);
  // A lone old match far from any other: nothing.
  assert.deepEqual(c.ingest(m('lone', T0 + 20 * MIN), neg), []);
  // One more inside the T0 streak: an update of the same anchor, one event added.
  const upd = c.ingest(m('a3', T0 + 3000), neg);
  assert.equal(upd.length, 1);
  assert.equal(upd[0].window_start, first[0].window_start);
  assert.equal(upd[0].added, 1);
  assert.deepEqual(upd[0].event_ids, ['a3']);
});
