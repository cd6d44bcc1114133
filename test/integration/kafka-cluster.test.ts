/**
 * scripts/kafka-cluster.ts and socstream on a three-node cluster of the test's own (issue 18):
 * the script's verbs, topics created with the configured replication factor and min ISR, output
 * topics compressed with the configured codec (alerts readable by kcat), and the short form of the
 * cluster fault tests (the full form is test/reliability/cluster.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { stringify } from 'yaml';
import { createBus } from '../../src/bus/create.ts';
import { busSchema } from '../../src/config/schema.ts';
import { prefixedTopics } from '../../src/config/topics.ts';
import { segmentCodecs, TestCluster } from '../helpers/kafka-cluster.ts';
import { kafkaSkipReason, unique } from '../helpers/reliability.ts';
import { clusterFaultScenario, formatClusterFigures, kcatAlertIds } from '../helpers/reliability-cluster.ts';

const SCRIPT = new URL('../../scripts/kafka-cluster.ts', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const SKIP = kafkaSkipReason('the Kafka cluster tests');
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const EVENTS = Number(process.env.CLUSTER_SHORT_EVENTS ?? 20_000);
const RATE = Number(process.env.CLUSTER_SHORT_RATE ?? 1000);

const PYTHON_READER = new URL('./kafka-python-read.py', import.meta.url).pathname;
const HAS_KAFKA_PYTHON = spawnSync('/usr/bin/python3', ['-c', 'import kafka']).status === 0;
const NO_KAFKA_PYTHON =
  'kafka-python missing (apt-get install -y python3-kafka): the stock-client read of the alerts topic is SKIPPED';

it('kafka-cluster rejects an unknown verb and a bad node number with exit 2 and the usage', () => {
  for (const args of [['frobnicate'], ['kill', '4'], ['restart']]) {
    const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /usage: npm run kafka:cluster/);
  }
});

describe('a three-node cluster of our own', { skip: SKIP }, () => {
  const cluster = new TestCluster();
  const kafkaPython = (topic: string) => {
    const r = spawnSync('/usr/bin/python3', [PYTHON_READER, cluster.brokers, topic], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { ids?: string[]; error?: string };
  };
  const dir = mkdtempSync(join(tmpdir(), 'socstream-cluster-test-'));
  before(() => {
    const started = Date.now();
    cluster.start();
    process.stderr.write(`kafka-cluster: started in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
  after(() => {
    cluster.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status shows each node with its pid and the partitions it leads; kill N stops one, restart N brings it back in sync', async () => {
    const topic = unique('cluster-status');
    const create = cluster.run(['topics', '--create', '--topic', topic, '--partitions', '3']);
    assert.match(create.stdout, /Created topic/);
    const status = cluster.run(['status']);
    const nodes = status.stdout.match(/^node \d: pid \d+/gm) ?? [];
    assert.equal(nodes.length, 3, status.stdout);
    assert.equal((status.stdout.match(/active controller/g) ?? []).length, 1, status.stdout);
    for (let p = 0; p < 3; p++) assert.match(status.stdout, new RegExp(`${topic}-${p}\\b`));

    const victim = (await cluster.leaders([topic])).get(topic)?.[0] ?? 1;
    cluster.kill(victim);
    const down = cluster.run(['status'], true);
    assert.equal(down.status, 1, 'status exits 1 while a node is down');
    assert.match(down.stdout, new RegExp(`node ${victim}: not running`));
    const log = await cluster.restart(victim);
    assert.match(log, /0 without a leader, 0 under-replicated/);
    assert.equal(cluster.run(['status']).status, 0);
  });

  it('socstream topics create gives every topic the configured replication factor and min.insync.replicas', async () => {
    const topics = { ...prefixedTopics(`${unique('cluster-topics')}.`, 3), class_topics: true };
    const config = join(dir, 'topics.yaml');
    writeFileSync(
      config,
      stringify({
        bus: {
          type: 'kafka',
          kafka: { brokers: cluster.brokers.split(','), replication_factor: 3, min_insync_replicas: 2 },
        },
        topics,
      }),
    );
    const r = spawnSync(process.execPath, [MAIN, 'topics', 'create', '--config', config], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const names = [topics.network, topics.alerts, topics.matches, topics.dlq];
    const admin = new Admin({ clientId: 'socstream-test', bootstrapBrokers: cluster.brokers.split(',') });
    try {
      // Created topics reach every broker's metadata a moment after the controller made them.
      let metadata: Awaited<ReturnType<typeof admin.metadata>> | undefined;
      for (let attempt = 0; metadata === undefined; attempt++) {
        metadata = await admin.metadata({ topics: names, forceUpdate: true }).catch((err: Error) => {
          if (attempt >= 20 || !/Unknown topic/.test(err.message)) throw err;
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 500));
        });
      }
      for (const name of names)
        for (const p of metadata.topics.get(name)?.partitions ?? [])
          assert.equal(p.replicas.length, 3, `${name} has 3 replicas`);
      const described = await admin.describeConfigs({
        resources: names.map((name) => ({
          resourceType: 2,
          resourceName: name,
          configurationKeys: ['min.insync.replicas'],
        })),
      });
      for (const d of described)
        assert.equal(
          d.configs.find((c) => c.name === 'min.insync.replicas')?.value,
          '2',
          `${d.resourceName} min.insync.replicas`,
        );
    } finally {
      await admin.close();
    }
  });

  it('the alerts topic is gzip by default, events stay lz4: kcat, the console consumer and a stock kafka-python read the alerts (not the lz4 events), the segments on disk carry the codecs', async () => {
    const topics = prefixedTopics(`${unique('cluster-codec')}.`, 1);
    const bus = createBus(
      busSchema.parse({ type: 'kafka', kafka: { brokers: cluster.brokers.split(',') } }),
      topics,
    );
    const ids = Array.from({ length: 50 }, (_, i) => `alert-${i}`);
    try {
      await bus.createTopics([topics.alerts, topics.network].map((name) => ({ name, partitions: 1 })));
      const record = (id: string) => ({
        key: id,
        value: Buffer.from(JSON.stringify({ id, rule_title: 'test' })),
      });
      // Both topics in flight at once: one produce request carries one codec, so they split.
      await Promise.all([
        bus.publish(topics.alerts, ids.map(record)),
        bus.publish(
          topics.network,
          ids.map((id) => record(`event-${id}`)),
        ),
      ]);
    } finally {
      await bus.close();
    }
    assert.deepEqual([...kcatAlertIds(cluster.brokers, topics.alerts)].sort(), [...ids].sort());
    // Kafka's own console consumer, through the script (bootstrap = the cluster)
    const consoleConsumer = cluster.run([
      'console-consumer',
      '--topic',
      topics.alerts,
      '--from-beginning',
      '--max-messages',
      String(ids.length),
      '--timeout-ms',
      '60000',
    ]);
    const read = consoleConsumer.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { id: string }).id);
    assert.deepEqual(read.sort(), [...ids].sort());
    // kafka-python as Debian ships it, without python3-lz4 (the UnsupportedCodecError)
    if (HAS_KAFKA_PYTHON) {
      assert.deepEqual(kafkaPython(topics.alerts), { ids });
      assert.equal(kafkaPython(topics.network).error, 'UnsupportedCodecError', 'lz4 needs python3-lz4');
    } else process.stderr.write(`\n*** ${NO_KAFKA_PYTHON} ***\n\n`);
    const leader = (await cluster.leaders([topics.alerts, topics.network])) as Map<string, number[]>;
    const alertsLeader = leader.get(topics.alerts)?.[0] ?? 1;
    const networkLeader = leader.get(topics.network)?.[0] ?? 1;
    assert.deepEqual([...segmentCodecs(join(cluster.dataDir(alertsLeader), `${topics.alerts}-0`))], ['gzip']);
    assert.deepEqual(
      [...segmentCodecs(join(cluster.dataDir(networkLeader), `${topics.network}-0`))],
      ['lz4'],
    );
  });

  it(`SIGKILL of the node leading the raw and matches partitions while ${EVENTS} events flow: nothing lost, the alerts of an uninterrupted run exactly once, no role restarted by hand`, async () => {
    const f = await clusterFaultScenario(cluster, 'leader', {
      events: EVENTS,
      rate: RATE,
      timeoutMs: 300_000,
    });
    process.stderr.write(formatClusterFigures(f));
    assert.equal(f.lost, 0);
  });
});
