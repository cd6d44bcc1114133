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
