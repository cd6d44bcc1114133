import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { SinkUnavailableError } from '../../src/core/errors.ts';
import { dlqKafka } from '../../src/sinks/dlq-kafka.ts';
import { fixtureLines, testContext } from '../sources/helpers.ts';

const sshd = fixtureLines('sshd.log');

test('publishes each reject as JSON to the dlq topic, keyed by reason', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  const dlq = dlqKafka.create(dlqKafka.config.parse({ type: 'kafka', max_bytes: 20 }), {
    ...testContext(),
    bus,
  });
  await dlq.start();
  await dlq.write([
    {
      reason: 'no_match',
      format: 'sshd',
      source: 'sshd',
      position: { kind: 'kafka', topic: 'raw.auth', partition: 2, offset: '99' },
      receivedAt: 0,
      text: sshd[0],
      byteLength: Buffer.byteLength(sshd[0]),
    },
  ]);
  const sub = await bus.subscribe({ group: 'g', topics: ['dlq'], from: 'earliest' });
  const it = sub[Symbol.asyncIterator]();
  const { value } = await it.next();
  await sub.close();
  await bus.close();
  const [record] = value.records;
  assert.equal(record.key, 'no_match');
  const letter = JSON.parse(new TextDecoder().decode(record.value));
  assert.deepEqual(letter, {
    reason: 'no_match',
    source: 'sshd',
    format: 'sshd',
    position: { kind: 'kafka', topic: 'raw.auth', partition: 2, offset: '99' },
    received_at: '1970-01-01T00:00:00.000Z',
    text: sshd[0].slice(0, 20),
    original_length: Buffer.byteLength(sshd[0]),
    truncated: true,
  });
});

test('without a bus, start fails with SOC_SINK_UNAVAILABLE', async () => {
  const dlq = dlqKafka.create(dlqKafka.config.parse({ type: 'kafka' }), testContext());
  await assert.rejects(dlq.start(), SinkUnavailableError);
});
