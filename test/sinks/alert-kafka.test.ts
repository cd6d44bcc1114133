import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { createKafkaAlertOutput } from '../../src/sinks/alert-kafka.ts';
import { fanOut } from '../../src/sinks/alert-output.ts';

const a: Alert = {
  id: 'alert-1',
  rule_id: 'r',
  rule_title: 't',
  level: 'critical',
  tags: [],
  group: { host: 'h' },
  entity: 'h',
  count: 1,
  first_seen: 0,
  last_seen: 0,
  event_ids: ['e'],
  summary: 's',
  status: 'new',
  assignee: null,
  created_at: 0,
};

test('alerts are published to the alerts topic keyed by alert id, as JSON', async () => {
  const bus = new MemoryBus();
  await bus.createTopics([{ name: 'alerts', partitions: 3 }]);
  const out = fanOut([createKafkaAlertOutput({ bus, topic: 'alerts' })]);
  await out.write([a, { ...a, count: 2 }]);
  const sub = await bus.subscribe({ group: 'g', topics: ['alerts'], from: 'earliest', maxWaitMs: 50 });
  const got: Alert[] = [];
  const keys: Array<string | null> = [];
  for await (const batch of sub) {
    for (const r of batch.records) {
      keys.push(r.key);
      got.push(JSON.parse(Buffer.from(r.value).toString('utf8')) as Alert);
    }
    if (got.length >= 2) break;
  }
  await sub.close();
  await out.stop();
  await bus.close();
  assert.deepEqual(keys, ['alert-1', 'alert-1']);
  assert.deepEqual(
    got.map((x) => x.count),
    [1, 2],
    'same key, same partition: updates stay in order',
  );
});

test('alertOutputsFromConfig builds the outputs the config asks for', async () => {
  const { configSchema } = await import('../../src/config/schema.ts');
  const { alertOutputsFromConfig } = await import('../../src/pipeline/alerts.ts');
  const { PassThrough } = await import('node:stream');
  const bus = new MemoryBus();
  const stream = new PassThrough();
  let printed = '';
  stream.on('data', (c) => {
    printed += c;
  });
  const config = configSchema.parse({ alerts: { console: true, kafka: true } });
  const out = alertOutputsFromConfig(config, { dataDir: '/nonexistent', bus, stream });
  assert.equal(out.name, 'alert_console+alert_kafka');
  await bus.createTopics([{ name: config.topics.alerts, partitions: 1 }]);
  await out.write([a]);
  assert.equal(printed, '[ALERT] Host: h | Threat: t | Severity: CRITICAL\n');
  const ends = await bus.endOffsets([config.topics.alerts]);
  assert.equal(ends[0].offset, 1n);
  await out.stop();
  await bus.close();
  const none = alertOutputsFromConfig(configSchema.parse({ alerts: { kafka: false } }), { dataDir: '/x' });
  assert.equal(none.name, '');
});
