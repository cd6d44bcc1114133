/**
 * Broker faults on a three-node cluster (issue 18), with the pipeline's roles running as child
 * processes on the bus.kafka defaults (retries, timeouts) plus replication factor 3 and
 * min.insync.replicas 2, and a paced generator writing into the raw topic while the fault happens:
 * - leader: SIGKILL the node that leads the most raw and matches partitions;
 * - rolling: a controlled restart of node 1, 2 and 3 in turn;
 * - controller: SIGKILL the active KRaft controller;
 * - two: SIGKILL two of the three nodes for 20 s (writes block: no quorum, no ISR of 2).
 * Each ends with the proof of reliability-scenarios.ts: every input id in the lake and on the
 * events topics, the alerts of an uninterrupted run exactly once, every group caught up, and no
 * role restarted by hand (a role that exits fails the test).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { GROUPS } from '../../src/pipeline/topics.ts';
import type { TestCluster } from './kafka-cluster.ts';
import { committed, createPipeline, createRawTopic, generate, kafkaBus, waitFor } from './reliability.ts';
import { finish, sampleRss, startRoles, verify, watchUnexpectedExits } from './reliability-scenarios.ts';

export type ClusterFault = 'leader' | 'rolling' | 'controller' | 'two';

export interface ClusterFigures {
  fault: ClusterFault;
  events: number;
  lost: number;
  rejects: number;
  alerts: number;
  detections: string;
  /** What the fault did and how long its parts took. */
  steps: string[];
  totalMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Polls until `check` holds; returns how long it took. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(check, timeoutMs, what);
  return Date.now() - started;
}

/**
 * A publish of its own to a topic of its own (replication 3, min ISR 2) while two nodes are dead:
 * it must not be acknowledged (writes block) — it fails after its short delivery timeout.
 */
async function probeWriteBlocked(brokers: string, topic: string): Promise<string> {
  const probe = new KafkaBus(
    kafkaSchema.parse({
      brokers: brokers.split(','),
      client_id: 'socstream-probe',
      delivery_timeout_ms: 5000,
    }),
  );
  const started = Date.now();
  try {
    await probe.publish(
      topic,
      Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: new TextEncoder().encode(`probe ${i}`) })),
    );
    assert.fail('a write was acknowledged with two of three nodes dead (min.insync.replicas=2)');
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'SOC_KAFKA_DELIVERY', (error as Error).message);
  } finally {
    await probe.close().catch(() => {});
  }
  return `a probe write with two nodes dead was refused (SOC_KAFKA_DELIVERY after ${seconds(Date.now() - started)})`;
}

async function injectFault(
  cluster: TestCluster,
  fault: ClusterFault,
  topics: { raw: string; matches: string; probe: string },
): Promise<string[]> {
  const steps: string[] = [];
  const leadersOf = async () => cluster.leaders([topics.raw, topics.matches]);
  if (fault === 'leader') {
    const leaders = await leadersOf();
    const led = new Map<number, number>();
    for (const list of leaders.values()) for (const l of list) led.set(l, (led.get(l) ?? 0) + 1);
    const [victim] = [...led.entries()].filter(([n]) => n > 0).sort((a, b) => b[1] - a[1])[0];
    const rawLed = leaders.get(topics.raw)?.filter((l) => l === victim).length ?? 0;
    const matchesLed = leaders.get(topics.matches)?.filter((l) => l === victim).length ?? 0;
    const killedAt = Date.now();
    cluster.kill(victim);
    const electionMs = await timeUntil(
      async () => [...(await leadersOf()).values()].flat().every((l) => l >= 0 && l !== victim),
      60_000,
      `new leaders for node ${victim}'s partitions`,
    );
    steps.push(
      `SIGKILL node ${victim} (leader of ${rawLed} raw and ${matchesLed} matches partitions); new leaders after ${seconds(electionMs)}`,
    );
    await sleep(Math.max(0, 15_000 - (Date.now() - killedAt)));
    const restartStarted = Date.now();
    await cluster.restart(victim);
    steps.push(
      `node ${victim} down ${seconds(restartStarted - killedAt)}, back in sync ${seconds(Date.now() - restartStarted)} after its restart`,
    );
  } else if (fault === 'rolling') {
    for (const n of [1, 2, 3]) {
      const started = Date.now();
      await cluster.restart(n);
      steps.push(`restart node ${n}: ${seconds(Date.now() - started)} until every replica in sync`);
    }
  } else if (fault === 'controller') {
    const victim = cluster.controller();
    const killedAt = Date.now();
    cluster.kill(victim);
    let next = victim;
    const electionMs = await timeUntil(
      async () => {
        next = cluster.controller();
        return next !== victim;
      },
      60_000,
      'a new active controller',
    );
    steps.push(`SIGKILL active controller node ${victim}; node ${next} active after ${seconds(electionMs)}`);
    await sleep(Math.max(0, 15_000 - (Date.now() - killedAt)));
    const restartStarted = Date.now();
    await cluster.restart(victim);
    steps.push(`node ${victim} back in sync ${seconds(Date.now() - restartStarted)} after its restart`);
  } else {
    const controller = cluster.controller();
    // The controller and one other: the survivor has neither a quorum nor an ISR of two.
    const victims = [controller, controller === 1 ? 2 : 1];
    const killedAt = Date.now();
    for (const v of victims) cluster.kill(v);
    // Each kill runs the script (seconds on a loaded machine): both are dead from here.
    const bothDeadAt = Date.now();
    const [probe] = await Promise.all([probeWriteBlocked(cluster.brokers, topics.probe), sleep(20_000)]);
    const downMs = Date.now() - killedAt;
    const restartStarted = Date.now();
    await Promise.all(victims.map((v) => cluster.restart(v)));
    steps.push(
      `SIGKILL nodes ${victims.join(' and ')} (${victims[0]} the active controller) for ${seconds(downMs)}, both dead from ${seconds(bothDeadAt - killedAt)} after the first SIGKILL; both back in sync ${seconds(Date.now() - restartStarted)} after their restart`,
      probe,
    );
  }
  return steps;
}

/** The alert ids on a topic as kcat (/usr/bin/kcat, librdkafka) reads them from the start. */
export function kcatAlertIds(brokers: string, topic: string): Set<string> {
  const r = spawnSync(
    'kcat',
    ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
    {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  assert.equal(r.status, 0, `kcat: ${r.stderr}`);
  return new Set(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { id: string }).id),
  );
}

export async function clusterFaultScenario(
  cluster: TestCluster,
  fault: ClusterFault,
  options: { events: number; rate: number; timeoutMs: number },
): Promise<ClusterFigures> {
  const started = Date.now();
  // bus.kafka defaults (retries, timeouts) on purpose: they must ride out the faults by themselves.
  const p = createPipeline(cluster.brokers, 3, {
    replication_factor: 3,
    min_insync_replicas: 2,
    connect_timeout_ms: 10_000,
  });
  const bus = kafkaBus(cluster.brokers);
  const roles = startRoles(p);
  const watch = watchUnexpectedExits(roles);
  const rss = sampleRss(roles);
  try {
    await createRawTopic(bus, p);
    const gen = generate(p, options.events, options.rate);
    // Mid-stream: the generator has written a fifth of the stream and the process role has
    // committed some of it — or, when the roles start slowly (a loaded machine), three fifths are
    // written: waiting for a fifth *processed* let the generator finish before the fault, so no
    // write met it.
    const rawEnd = async () => (await bus.endOffsets([p.rawTopic])).reduce((n, o) => n + o.offset, 0n);
    await waitFor(
      async () => {
        const written = await rawEnd();
        if (written < BigInt(Math.floor(options.events / 5))) return false;
        if (written >= BigInt(Math.floor((options.events * 3) / 5))) return true;
        return (await committed(bus, GROUPS.process, [p.rawTopic])) > 0n;
      },
      options.timeoutMs,
      'a fifth of the stream written and part of it processed',
      watch.failure,
    );
    // The matches topic exists once the process role published its first match.
    await waitFor(
      async () => ((await cluster.leaders([p.matchesTopic])).get(p.matchesTopic)?.length ?? 0) > 0,
      60_000,
      'the matches topic',
    );
    const faultStarted = Date.now();
    let generatorEnded = 0;
    void gen.done.then(() => {
      generatorEnded = Date.now();
    });
    const endBefore = await rawEnd();
    // The fault must meet the generator's writes (for "two": writes block, then resume).
    assert.ok(
      endBefore < BigInt(options.events),
      `the fault lands mid-stream: ${endBefore} of ${options.events} events written when it began`,
    );
    const probe = `${p.rawTopic}-probe`;
    if (fault === 'two') await bus.createTopics([{ name: probe, partitions: 3 }]);
    const steps = await injectFault(cluster, fault, { raw: p.rawTopic, matches: p.matchesTopic, probe });
    steps.unshift(
      `fault began with ${endBefore} of ${options.events} events written` +
        (generatorEnded ? `, the generator ended ${seconds(generatorEnded - faultStarted)} into it` : ''),
    );
    steps.push(`fault over after ${seconds(Date.now() - faultStarted)}`);
    assert.equal(watch.failure(), undefined, watch.failure());
    assert.equal(await gen.done, 0, 'the generator rode out the fault (exit code 0)');
    const caughtUpStarted = Date.now();
    await finish(bus, p, roles, options.timeoutMs, watch.failure);
    assert.equal(watch.failure(), undefined, watch.failure());
    steps.push(`every group caught up ${seconds(Date.now() - caughtUpStarted)} after the fault was over`);
    rss.stop();
    const proof = await verify(bus, p, options.events, true);
    // The alerts topic, read by a client that is not ours (librdkafka's kcat), holds the same alerts.
    const kcatIds = kcatAlertIds(cluster.brokers, p.alertsTopic);
    assert.deepEqual(
      [...kcatIds].sort(),
      [...proof.alertIds].sort(),
      'kcat reads the stored alerts off the alerts topic',
    );
    steps.push(`kcat read ${kcatIds.size} distinct alert ids off the alerts topic`);
    // The generator's own report: how its writes met the fault (re-sent to moved leaders or not).
    const generated = readFileSync(join(p.dir, 'generate.log'), 'utf8').match(
      /generate: [\d,]+ events in .*/g,
    );
    if (generated) steps.push(generated[generated.length - 1]);
    rmSync(p.dir, { recursive: true, force: true });
    return {
      fault,
      events: options.events,
      lost: proof.lost,
      rejects: proof.rejects,
      alerts: proof.alerts,
      detections: proof.detections,
      steps,
      totalMs: Date.now() - started,
    };
  } finally {
    rss.stop();
    for (const r of Object.values(roles)) r.child.kill('SIGKILL');
    await bus.close().catch(() => {});
  }
}

export function formatClusterFigures(f: ClusterFigures): string {
  return (
    `cluster fault ${f.fault}: ${f.events} events, ${f.lost} lost, ${f.rejects} rejects, ${f.alerts} alerts, ` +
    `${seconds(f.totalMs)} in all; ${f.steps.join('; ')}; ${f.detections}\n`
  );
}
