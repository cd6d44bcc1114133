import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SOURCES } from '../../src/components.ts';
import { validateConfig } from '../../src/config/loader.ts';

const DEPLOY = new URL('../../deploy/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, DEPLOY), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string | number>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };

test('the compose file is valid YAML with Kafka, every socstream role, Prometheus, Alertmanager and Grafana', () => {
  const services = Object.keys(compose.services).sort();
  for (const s of [
    'kafka-1',
    'kafka-2',
    'kafka-3',
    'kafka-exporter',
    'ingest',
    'process',
    'correlate',
    'store',
    'serve',
    'prometheus',
    'alertmanager',
    'grafana',
  ])
    assert.ok(services.includes(s), `missing service ${s}`);
});

test('Kafka is three KRaft nodes (broker + controller, no ZooKeeper, one quorum, RF 3, min ISR 2) from the apache/kafka 4.x image', () => {
  const nodes = [1, 2, 3].map((n) => compose.services[`kafka-${n}`]);
  const voters = nodes.map((_, i) => `${i + 1}@kafka-${i + 1}:29093`).join(',');
  const ports = new Set<string>();
  nodes.forEach((kafka, i) => {
    const env = kafka.environment!;
    assert.match(kafka.image!, /^apache\/kafka:4\./);
    assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.equal(env.KAFKA_NODE_ID, i + 1);
    assert.equal(env.KAFKA_CONTROLLER_QUORUM_VOTERS, voters);
    assert.equal(env.CLUSTER_ID, nodes[0].environment!.CLUSTER_ID);
    assert.equal(env.KAFKA_DEFAULT_REPLICATION_FACTOR, 3);
    assert.equal(env.KAFKA_MIN_INSYNC_REPLICAS, 2);
    assert.equal(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, 3);
    assert.ok(!Object.keys(env).some((k) => k.includes('ZOOKEEPER')));
    for (const p of (kafka as { ports?: string[] }).ports ?? []) ports.add(p);
  });
  assert.equal(ports.size, 3, 'each node has its own host port');
  // A cluster id is 16 bytes in base64url without padding (Kafka's Uuid).
  assert.equal(Buffer.from(String(nodes[0].environment!.CLUSTER_ID), 'base64url').length, 16);
});

test('each role service runs `socstream run --role <role>` from the Dockerfile with the mounted config', () => {
  assert.ok(existsSync(new URL('Dockerfile', DEPLOY)));
  for (const role of ['ingest', 'process', 'correlate', 'store', 'serve']) {
    const s = compose.services[role];
    assert.equal(s.build?.dockerfile, 'deploy/Dockerfile', role);
    assert.deepEqual(s.command, ['run', '--config', '/etc/socstream/socstream.yaml', '--role', role]);
    assert.ok(s.volumes?.includes('./socstream.yaml:/etc/socstream/socstream.yaml:ro'), role);
  }
});

test('the Dockerfile copies only folders that exist and runs the build (dist/, the dashboard bundled)', () => {
  const dockerfile = read('Dockerfile');
  for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)) {
    const sources = m[1].trim().split(/\s+/).slice(0, -1);
    for (const path of sources) assert.ok(existsSync(new URL(`../${path}`, DEPLOY)), `COPY ${path}`);
  }
  assert.match(dockerfile, /RUN node scripts\/build\.ts/);
  assert.match(dockerfile, /COPY --from=build \/app\/dist \.\/dist$/m);
  // The launcher runs dist/ only when the build completed (bin/entry.js); the image (the last
  // stage) keeps no sources beside it.
  const image = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(image, /^COPY --from=build \/app\/dist \.\/dist$/m);
  assert.doesNotMatch(image, /^COPY src /m);
  // The launcher (MALLOC_ARENA_MAX, bin/entry.js) with the V8 heap flags of a Kafka deployment.
  assert.match(
    dockerfile,
    /ENTRYPOINT \["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "bin\/socstream\.js"\]/,
  );
  assert.match(dockerfile, /^COPY bin \.\/bin$/m);
});

test('every file the compose file mounts exists', () => {
  for (const s of Object.values(compose.services))
    for (const v of s.volumes ?? []) {
      const host = v.split(':')[0];
      if (host.startsWith('./')) assert.ok(existsSync(new URL(host, DEPLOY)), v);
    }
});

test('deploy/socstream.yaml is a valid socstream config, sources included', () => {
  const config = validateConfig(parse(read('socstream.yaml')), 'deploy/socstream.yaml');
  assert.equal(config.bus.type, 'kafka');
  assert.deepEqual(config.bus.kafka.brokers, ['kafka-1:19092', 'kafka-2:19092', 'kafka-3:19092']);
  assert.equal(config.bus.kafka.replication_factor, 3);
  assert.equal(config.bus.kafka.min_insync_replicas, 2);
  assert.equal(config.metrics_port, 9464);
  for (const source of config.sources) {
    const def = SOURCES.get(source.type);
    assert.ok(def, `unknown source type ${source.type}`);
    const r = def.config.safeParse(source);
    assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
  }
});

test('Grafana provisioning points at the dashboards folder and the Prometheus service', () => {
  const ds = parse(read('grafana/provisioning/datasources/prometheus.yml'));
  assert.equal(ds.datasources[0].url, 'http://prometheus:9090');
  const dashboards = parse(read('grafana/provisioning/dashboards/socstream.yml'));
  assert.equal(dashboards.providers[0].options.path, '/var/lib/grafana/dashboards');
  const dash = JSON.parse(read('grafana/dashboards/socstream.json'));
  assert.equal(dash.uid, 'socstream-overview');
  for (const p of dash.panels) assert.equal(p.datasource.uid, ds.datasources[0].uid);
});

test('Alertmanager config has a default route and the receivers it names', () => {
  const am = parse(read('alertmanager/alertmanager.yml'));
  const receivers = new Set(am.receivers.map((r: { name: string }) => r.name));
  assert.ok(receivers.has(am.route.receiver));
  for (const r of am.route.routes ?? []) assert.ok(receivers.has(r.receiver));
});
