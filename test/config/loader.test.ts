import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { envOverrides, loadConfig } from '../../src/config/loader.ts';
import { ConfigError } from '../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
const EXAMPLE = new URL('../../config/socstream.example.yaml', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

describe('loadConfig', () => {
  it('gives the documented defaults with no file', () => {
    const config = loadConfig(undefined, { env: {} });
    assert.equal(config.bus.type, 'memory');
    assert.deepEqual(config.bus.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(config.bus.kafka.compression, 'lz4');
    assert.equal(config.bus.memory.queue_capacity, 10_000);
    assert.equal(config.topics.partitions, 6);
  });

  it('loads the shipped example config', () => {
    assert.doesNotThrow(() => loadConfig(EXAMPLE, { env: {} }));
  });

  it('lets SOCSTREAM_* variables override the file, typed as YAML scalars and flow lists', () => {
    const file = configFile(
      'env.yaml',
      'bus:\n  type: memory\n  kafka:\n    brokers: ["a:9092"]\ntopics:\n  partitions: 3\n',
    );
    const config = loadConfig(file, {
      env: {
        SOCSTREAM_BUS__TYPE: 'kafka',
        SOCSTREAM_BUS__KAFKA__BROKERS: '[k1:9092, k2:9092]',
        SOCSTREAM_BUS__KAFKA__CONNECT_TIMEOUT_MS: '2500',
        SOCSTREAM_TOPICS__PARTITIONS: '12',
        SOCSTREAM_SKIP_KAFKA: '1', // a program setting, not a config key
      },
    });
    assert.equal(config.bus.type, 'kafka');
    assert.deepEqual(config.bus.kafka.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(config.bus.kafka.connect_timeout_ms, 2500);
    assert.equal(config.topics.partitions, 12);
  });

  it('maps SOCSTREAM_A__B_C to the path a.b_c', () => {
    assert.deepEqual(
      envOverrides({ SOCSTREAM_LAKE__FLUSH_EVENT_COUNT: '5000', OTHER: 'x' }).map((o) => [o.path, o.value]),
      [[['lake', 'flush_event_count'], 5000]],
    );
  });

  it('names the file, the key path and the fix for an unknown key', () => {
    const file = configFile('typo.yaml', 'bus:\n  kafka:\n    compresion: lz4\n');
    assert.throws(
      () => loadConfig(file, { env: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.exitCode, 2);
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, /bus\.kafka/);
        assert.match(error.message, /"compresion"/);
        assert.match(error.message, /Fix: remove/);
        return true;
      },
    );
  });

  it('names the expected values for a bad enum and the bound for a bad number', () => {
    const file = configFile('bad.yaml', 'bus:\n  type: rabbitmq\ntopics:\n  partitions: 0\n');
    assert.throws(
      () => loadConfig(file, { env: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /bus\.type: .*Fix: use one of: "memory", "kafka"/);
        assert.match(error.message, /topics\.partitions: .*Fix: use a value > 0/);
        return true;
      },
    );
  });

  it('blames the environment variable path when an override is wrong', () => {
    assert.throws(
      () => loadConfig(undefined, { env: { SOCSTREAM_BUS__KAFKA__COMPRESSION: 'brotli' } }),
      /bus\.kafka\.compression/,
    );
  });

  it('reports invalid YAML with its line, and a missing file', () => {
    const file = configFile('broken.yaml', 'bus:\n  type: [memory\n');
    assert.throws(() => loadConfig(file, { env: {} }), /not valid YAML at line \d+/);
    assert.throws(() => loadConfig(join(dir, 'missing.yaml'), { env: {} }), /cannot read config \(ENOENT\)/);
  });
});

describe('a bad config on the command line', () => {
  it('exits 2 and names the file and the key', () => {
    const file = configFile('cli.yaml', 'topics:\n  partitons: 6\n');
    const r = spawnSync(process.execPath, [MAIN, 'topics', 'list', '--config', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /SOC_CONFIG_INVALID/);
    assert.ok(r.stderr.includes(file));
    assert.match(r.stderr, /"partitons"/);
  });
});
