import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { configuredTopics } from '../../src/cli/topics.ts';
import { loadConfig } from '../../src/config/loader.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

it('topics create adds a raw topic per configured source, named like the ingest role names them (schema defaults included)', () => {
  const config = loadConfig(undefined, {
    env: { SOCSTREAM_SOURCES: '[{type: file, name: zeek, paths: [x]}, {type: stdin}]' },
  });
  assert.deepEqual(
    configuredTopics(config)
      .slice(0, 2)
      .map((t) => t.name),
    ['raw.zeek', 'raw.stdin'],
  );
});

it('topics create targets every configured topic with topics.partitions partitions; no event topic by default', () => {
  const config = loadConfig(undefined, {
    env: { SOCSTREAM_TOPICS__PARTITIONS: '12', SOCSTREAM_TOPICS__DLQ: 'dead' },
  });
  assert.deepEqual(
    configuredTopics(config).map((t) => `${t.name}/${t.partitions}`),
    ['matches', 'alerts', 'dead'].map((n) => `${n}/12`),
  );
  const withClassTopics = loadConfig(undefined, { env: { SOCSTREAM_TOPICS__CLASS_TOPICS: 'true' } });
  assert.deepEqual(
    configuredTopics(withClassTopics).map((t) => t.name),
    ['matches', 'alerts', 'dlq', 'events.network', 'events.auth', 'events.web', 'events.other'],
  );
});

it("the example config's topics: raw per source, the Kafka sources' own topics, the routes' topics", () => {
  const config = loadConfig(new URL('../../config/socstream.example.yaml', import.meta.url).pathname);
  const names = configuredTopics(config).map((t) => t.name);
  assert.deepEqual(names, [
    'raw.zeek',
    'raw.suricata',
    'raw.nginx',
    'raw.app',
    'raw.syslog',
    'threat-events',
    'auth_events',
    'zeek-raw',
    'matches',
    'alerts',
    'dlq',
    'zeek-normalized',
    'security_alerts',
  ]);
});

it('`socstream topics list` with no broker exits 1 within the connect timeout, naming the address', () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [MAIN, 'topics', 'list', '--brokers', '127.0.0.1:1'], {
    encoding: 'utf8',
    env: { ...process.env, SOCSTREAM_BUS__KAFKA__CONNECT_TIMEOUT_MS: '1500' },
    timeout: 30_000,
  });
  const elapsedMs = Date.now() - started;
  assert.equal(r.signal, null, `the command did not hang (killed after ${elapsedMs} ms)`);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /SOC_KAFKA_UNREACHABLE/);
  assert.match(r.stderr, /127\.0\.0\.1:1\b/);
  assert.equal(r.stdout, '');
});

it('`socstream topics create` with a bad config exits 2 naming the key', () => {
  const r = spawnSync(process.execPath, [MAIN, 'topics', 'create'], {
    encoding: 'utf8',
    env: { ...process.env, SOCSTREAM_TOPICS__PARTITIONS: '0' },
    timeout: 30_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /topics\.partitions/);
});
