/**
 * The Bus contract on the real broker (npm run kafka:start), plus what only Kafka has: the
 * unreachable-broker error and topic administration.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { KafkaUnreachableError } from '../../src/core/errors.ts';
import { busContract, uniqueName } from '../bus/contract.ts';
import { kafkaBusFor } from '../helpers/kafka.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: Kafka bus contract NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const created: string[] = [];

busContract(
  'kafka',
  async () => {
    const bus = new KafkaBus(config);
    // Remember the topics the contract creates so `after` can delete them.
    const createTopics = bus.createTopics.bind(bus);
    bus.createTopics = async (topics) => {
      for (const t of topics) created.push(t.name);
      await createTopics(topics);
    };
    return bus;
  },
  { waitMs: 60_000, skip: SKIP },
);

describe('KafkaBus', { skip: SKIP }, () => {
  after(async () => {
    const admin = new KafkaBus(config);
    await admin.deleteTopics(created).catch(() => {});
    await admin.close();
  });

  it('fails within connect_timeout_ms with KafkaUnreachableError naming the bootstrap address when no broker answers', async (t) => {
    const bus = kafkaBusFor(t, kafkaSchema.parse({ brokers: ['127.0.0.1:1'], connect_timeout_ms: 1500 }));
    const started = Date.now();
    for (const op of [
      () => bus.listTopics(),
      () => bus.publish('t', [{ key: 'k', value: new Uint8Array(1) }]),
    ]) {
      await assert.rejects(op(), (error: unknown) => {
        assert.ok(error instanceof KafkaUnreachableError);
        assert.equal(error.code, 'SOC_KAFKA_UNREACHABLE');
        assert.match(error.message, /127\.0\.0\.1:1\b/);
        return true;
      });
    }
    assert.ok(Date.now() - started < 2 * 1500 + 2000, 'both calls gave up within their bound');
    await bus.close();
  });

  it('publishes more than the broker takes in one request (3 MiB to one partition) in order', async (t) => {
    const bus = kafkaBusFor(t, kafkaSchema.parse({ compression: 'none' }));
    const name = uniqueName('big');
    created.push(name);
    await bus.createTopics([{ name, partitions: 1 }]);
    const value = new Uint8Array(1024).fill(0x41);
    await bus.publish(
      name,
      Array.from({ length: 3000 }, (_, i) => ({ key: 'one-key', value, headers: { i: String(i) } })),
    );
    assert.deepEqual(await bus.endOffsets([name]), [{ topic: name, partition: 0, offset: 3000n }]);
    const sub = await bus.subscribe({ group: uniqueName('g-big'), topics: [name], from: 'earliest' });
    const order: number[] = [];
    for await (const batch of sub) {
      for (const r of batch.records) order.push(Number(r.headers?.i));
      if (order.length >= 3000) break;
    }
    await bus.close();
    assert.deepEqual(
      order,
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });

  it('creates topics idempotently with their partition counts, and lists them', async (t) => {
    const bus = kafkaBusFor(t, config);
    const name = uniqueName('admin');
    created.push(name);
    await bus.createTopics([{ name, partitions: 3, configs: { 'retention.ms': '3600000' } }]);
    await bus.createTopics([{ name, partitions: 3 }]);
    const listed = (await bus.listTopics()).find((t) => t.name === name);
    assert.deepEqual(listed, { name, partitions: 3 });
    await bus.close();
  });
});
