/**
 * The kafka source and the kafka dead-letter output on the real broker (npm run kafka:start):
 * offsets are committed only after the ack, and unacked records come back with the same ids.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema, topicsSchema } from '../../src/config/schema.ts';
import { eventId } from '../../src/core/ids.ts';
import { dlqKafka } from '../../src/sinks/dlq-kafka.ts';
import { kafkaSource } from '../../src/sources/kafka.ts';
import { collect, fixtureLines, testContext, texts } from '../sources/helpers.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: kafka source / DLQ integration tests NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const sshd = fixtureLines('sshd.log');
const enc = new TextEncoder();
const created: string[] = [];
const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

after(async () => {
  if (SKIP) return;
  const admin = new KafkaBus(config);
  await admin.deleteTopics(created).catch(() => {});
  await admin.close();
});

test('kafka source: commit after ack only; unacked records are re-delivered with the same ids', async (t) => {
  if (SKIP) return t.skip(SKIP);
  const topic = unique('raw.test-auth');
  const group = unique('socstream-test-group');
  created.push(topic);
  const bus = new KafkaBus(config);
  t.after(() => bus.close());
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  await bus.publish(
    topic,
    sshd.map((l) => ({ key: 'k', value: enc.encode(l) })),
  );
  const make = () =>
    kafkaSource.create(kafkaSource.config.parse({ type: 'kafka', topics: [topic], group, format: 'sshd' }), {
      ...testContext(),
      bus,
    });

  const first = make();
  const firstIt = first.batches()[Symbol.asyncIterator]();
  const unacked = await collect(firstIt, (b) => texts(b).length >= sshd.length, {
    ack: false,
    timeoutMs: 60_000,
  });
  assert.deepEqual(texts(unacked), sshd);
  assert.deepEqual(unacked[0].records[0].position, { kind: 'kafka', topic, partition: 0, offset: '0' });
  await first.stop();
  const none = await bus.committedOffsets(group, [topic]);
  assert.ok(
    none.every((o) => o.offset <= 0n),
    `nothing committed before the ack: ${JSON.stringify(none, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
  );

  const second = make();
  const secondIt = second.batches()[Symbol.asyncIterator]();
  const again = await collect(secondIt, (b) => texts(b).length >= sshd.length, { timeoutMs: 60_000 });
  await second.stop();
  const ids = (b: typeof again) => b.flatMap((x) => x.records.map((r) => eventId(r.position)));
  assert.deepEqual(ids(again), ids(unacked));
  const committed = await bus.committedOffsets(group, [topic]);
  assert.equal(committed.find((o) => o.partition === 0)?.offset, BigInt(sshd.length));
});

test('kafka dead-letter output: a reject lands on the topic as JSON', async (t) => {
  if (SKIP) return t.skip(SKIP);
  const topic = unique('dlq-test');
  created.push(topic);
  const bus = new KafkaBus(config);
  t.after(() => bus.close());
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  // The dlq topic is the pipeline's (topics.dlq), not a key of the output's own config.
  const topics = topicsSchema.parse({ dlq: topic });
  const dlq = dlqKafka.create(dlqKafka.config.parse({ type: 'kafka' }), { ...testContext(), bus, topics });
  await dlq.start();
  await dlq.write([
    {
      reason: 'no_match',
      format: 'sshd',
      source: 'sshd',
      position: { kind: 'kafka', topic: 'raw.auth', partition: 0, offset: '7' },
      receivedAt: 1_770_000_000_000,
      text: sshd[0],
      byteLength: Buffer.byteLength(sshd[0]),
    },
  ]);
  const sub = await bus.subscribe({ group: unique('dlq-reader'), topics: [topic], from: 'earliest' });
  const it = sub[Symbol.asyncIterator]();
  const { value } = await it.next();
  await sub.close();
  const letter = JSON.parse(new TextDecoder().decode(value.records[0].value));
  assert.equal(letter.reason, 'no_match');
  assert.equal(letter.text, sshd[0]);
  assert.equal(letter.received_at, new Date(1_770_000_000_000).toISOString());
});
