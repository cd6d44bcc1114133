/**
 * The Kafka bus's two send lanes on the real broker (src/bus/kafka-send-lane.ts): the latency
 * topics (matches, alerts) have a producer, connection and send loop of their own, so a match
 * published while many MiB of raw lines are being sent is acked without waiting for them; each
 * lane keeps per-key order and writes every record once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createBus } from '../../src/bus/create.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { busSchema, kafkaSchema } from '../../src/config/schema.ts';
import { prefixedTopics } from '../../src/config/topics.ts';
import { uniqueName } from '../bus/contract.ts';
import { kafkaBusFor } from '../helpers/kafka.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: the Kafka send lanes NOT tested (no broker on 127.0.0.1:9092)'
    : undefined;

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const created: string[] = [];

/** Every record of `topics`, read from the start by a fresh group. */
async function readAll(bus: KafkaBus, topics: string[], count: number) {
  const sub = await bus.subscribe({ group: uniqueName('g-lanes'), topics, from: 'earliest' });
  const seen: Array<{ topic: string; key: string | null; value: string }> = [];
  const decoder = new TextDecoder();
  for await (const batch of sub) {
    for (const r of batch.records) seen.push({ topic: r.topic, key: r.key, value: decoder.decode(r.value) });
    if (seen.length >= count) break;
  }
  await sub.close();
  return seen;
}

describe('KafkaBus send lanes', { skip: SKIP }, () => {
  after(async () => {
    const admin = new KafkaBus(config);
    await admin.deleteTopics(created).catch(() => {});
    await admin.close();
  });

  it('a match published while MiBs of raw lines are in flight is acked before them, and every record lands once, in order', async (t) => {
    const raw = uniqueName('lanes-raw');
    const matches = uniqueName('lanes-matches');
    created.push(raw, matches);
    const bus = kafkaBusFor(t, config, { latencyTopics: [matches] });
    await bus.createTopics([
      { name: raw, partitions: 3 },
      { name: matches, partitions: 3 },
    ]);
    const enc = new TextEncoder();
    // Both producers have their ids and connections before anything is timed.
    await Promise.all([
      bus.publish(raw, [{ key: 's0', value: enc.encode('warm 0') }]),
      bus.publish(matches, [{ key: 'm', value: enc.encode('0') }]),
    ]);
    // 32 MiB of random (incompressible) lines: four requests of 8 MiB in the bulk lane.
    const line = randomBytes(512).toString('hex');
    const RAW = 32_000;
    const order: string[] = [];
    const bulk = bus
      .publish(
        raw,
        Array.from({ length: RAW }, (_, i) => ({ key: `s${i % 3}`, value: enc.encode(`${i + 1} ${line}`) })),
      )
      .then(() => order.push('raw'));
    const match = bus
      .publish(matches, [{ key: 'm', value: enc.encode('1') }])
      .then(() => order.push('match'));
    await Promise.all([bulk, match]);
    assert.deepEqual(order, ['match', 'raw'], 'the match did not wait behind the raw requests');

    const seen = await readAll(bus, [raw, matches], RAW + 3);
    assert.equal(seen.length, RAW + 3);
    const last = new Map<string, number>();
    for (const r of seen) {
      const id = `${r.topic}/${r.key}`;
      const n = Number.parseInt(r.value.replace(/^warm /, ''), 10);
      const before = last.get(id) ?? -1;
      assert.ok(n > before, `${id}: ${n} after ${before}`);
      last.set(id, n);
    }
    assert.equal(last.get(`${matches}/m`), 1);
    assert.equal(
      seen.filter((r) => r.topic === raw).length,
      RAW + 1,
      'each raw line once (one producer id per lane, its own sequence numbers)',
    );
  });

  it('createBus gives the matches and alerts topics their own lane', async () => {
    const topics = prefixedTopics(`${uniqueName('lanes-cfg')}.`, 1);
    const bus = createBus(busSchema.parse({ type: 'kafka', kafka: { brokers: ['127.0.0.1:9092'] } }), topics);
    const lanes = (bus as unknown as { latencyTopics: ReadonlySet<string> }).latencyTopics;
    assert.deepEqual([...lanes].sort(), [topics.alerts, topics.matches].sort());
    await bus.close();
  });

  it('closing the bus fails what both lanes still hold', async (t) => {
    const raw = uniqueName('lanes-close-raw');
    const matches = uniqueName('lanes-close-matches');
    created.push(raw, matches);
    const bus = kafkaBusFor(t, config, { latencyTopics: [matches] });
    await bus.createTopics([
      { name: raw, partitions: 1 },
      { name: matches, partitions: 1 },
    ]);
    const enc = new TextEncoder();
    const line = enc.encode(randomBytes(512).toString('hex'));
    // The first of each lane is in flight; the second is queued behind it.
    const publishes = [raw, raw, matches, matches].map((topic) =>
      bus.publish(
        topic,
        Array.from({ length: 4000 }, () => ({ key: 'k', value: line })),
      ),
    );
    const settled = Promise.allSettled(publishes);
    await bus.close();
    const results = await settled;
    for (const i of [1, 3]) {
      const r = results[i];
      assert.equal(r.status, 'rejected', `publish ${i} was still queued at close`);
      assert.equal((r as PromiseRejectedResult).reason.code, 'SOC_BUS_CLOSED');
    }
  });
});
