/**
 * KafkaBus.publish on the real broker when many publishes are in flight at once (the pipelined
 * process and ingest roles): the bus coalesces them into shared produce requests, keeps per-key
 * order on every topic (Zeek TSV headers must precede their rows on a raw topic), and resolves each
 * publish only once its records are on the broker.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { uniqueName } from '../bus/contract.ts';
import { kafkaBusFor } from '../helpers/kafka.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: concurrent Kafka publishes NOT tested (no broker on 127.0.0.1:9092)'
    : undefined;

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const created: string[] = [];

async function readAll(bus: KafkaBus, topics: string[], count: number) {
  const sub = await bus.subscribe({ group: uniqueName('g-order'), topics, from: 'earliest' });
  const seen: Array<{ topic: string; key: string | null; seq: number }> = [];
  for await (const batch of sub) {
    for (const r of batch.records)
      seen.push({ topic: r.topic, key: r.key, seq: Number(new TextDecoder().decode(r.value)) });
    if (seen.length >= count) break;
  }
  return seen;
}

describe('KafkaBus concurrent publishes', { skip: SKIP }, () => {
  after(async () => {
    const admin = new KafkaBus(config);
    await admin.deleteTopics(created).catch(() => {});
    await admin.close();
  });

  it('keeps per-key order on every topic and resolves each publish once its records are on the broker', async (t) => {
    const bus = kafkaBusFor(t, config);
    const topics = [uniqueName('order-a'), uniqueName('order-b')];
    created.push(...topics);
    await bus.createTopics(topics.map((name) => ({ name, partitions: 3 })));
    const PUBLISHES = 300;
    const PER_PUBLISH = 20;
    const KEYS = 8;
    const next = new Map<string, number>();
    const enc = new TextEncoder();
    // Started together, awaited together: the bus sends them as they queue up.
    const publishes: Array<Promise<void>> = [];
    const acked: boolean[] = [];
    for (let p = 0; p < PUBLISHES; p++) {
      const topic = topics[p % 2];
      const records = Array.from({ length: PER_PUBLISH }, (_, i) => {
        const key = `k${(p + i) % KEYS}`;
        const id = `${topic}/${key}`;
        const seq = next.get(id) ?? 0;
        next.set(id, seq + 1);
        return { key, value: enc.encode(String(seq)) };
      });
      publishes.push(
        bus.publish(topic, records).then(() => {
          acked[p] = true;
        }),
      );
    }
    await Promise.all(publishes);
    assert.equal(acked.filter(Boolean).length, PUBLISHES);
    const ends = await bus.endOffsets(topics);
    assert.equal(
      ends.reduce((n, o) => n + Number(o.offset), 0),
      PUBLISHES * PER_PUBLISH,
      'every record is on the broker once every publish resolved',
    );
    const seen = await readAll(bus, topics, PUBLISHES * PER_PUBLISH);
    await bus.close();
    const last = new Map<string, number>();
    for (const r of seen) {
      const id = `${r.topic}/${r.key}`;
      const expected = (last.get(id) ?? -1) + 1;
      assert.equal(r.seq, expected, `${id}: record ${r.seq} after ${expected - 1}`);
      last.set(id, r.seq);
    }
    assert.deepEqual(
      [...last].sort().map(([id, seq]) => [id, seq + 1]),
      [...next].sort(),
    );
  });

  it('keeps one key in order when concurrent publishes add up to several requests (3 MiB on one partition)', async (t) => {
    const bus = kafkaBusFor(t, kafkaSchema.parse({ compression: 'none' }));
    const name = uniqueName('order-big');
    created.push(name);
    await bus.createTopics([{ name, partitions: 2 }]);
    const pad = 'x'.repeat(1000);
    const enc = new TextEncoder();
    let seq = 0;
    const publishes = Array.from({ length: 30 }, () =>
      bus.publish(
        name,
        Array.from({ length: 100 }, () => ({ key: 'one-stream', value: enc.encode(`${seq++} ${pad}`) })),
      ),
    );
    await Promise.all(publishes);
    const sub = await bus.subscribe({ group: uniqueName('g-big'), topics: [name], from: 'earliest' });
    const order: number[] = [];
    for await (const batch of sub) {
      for (const r of batch.records) order.push(Number.parseInt(new TextDecoder().decode(r.value), 10));
      if (order.length >= 3000) break;
    }
    await bus.close();
    assert.deepEqual(
      order,
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });

  it('a record the broker refuses for good fails its publish with SOC_KAFKA_DELIVERY naming the partition; the next publish goes through once', async (t) => {
    const bus = kafkaBusFor(t, kafkaSchema.parse({ compression: 'none' }));
    const name = uniqueName('refused');
    created.push(name);
    await bus.createTopics([{ name, partitions: 2 }]);
    const enc = new TextEncoder();
    await bus.publish(name, [{ key: 'a', value: enc.encode('before') }]);
    // Over the broker's message.max.bytes (1 MiB by default): MESSAGE_TOO_LARGE, not retriable.
    const tooLarge = bus.publish(name, [{ key: 'a', value: new Uint8Array(2 * 1024 * 1024).fill(120) }]);
    await assert.rejects(tooLarge, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SOC_KAFKA_DELIVERY');
      assert.match(error.message, new RegExp(`${name}: [01]`));
      return true;
    });
    // A fresh producer id for the next request: its records land once each, in order.
    await bus.publish(name, [
      { key: 'a', value: enc.encode('after-1') },
      { key: 'a', value: enc.encode('after-2') },
    ]);
    const sub = await bus.subscribe({ group: uniqueName('g-refused'), topics: [name], from: 'earliest' });
    const values: string[] = [];
    for await (const batch of sub) {
      for (const r of batch.records) values.push(new TextDecoder().decode(r.value));
      if (values.length >= 3) break;
    }
    await bus.close();
    assert.deepEqual(values, ['before', 'after-1', 'after-2']);
    assert.equal(bus.redelivered.requests, 1, 'the refused request went through redeliver once');
  });
});
