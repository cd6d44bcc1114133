/**
 * Issue 20 (the consumer on a backlog): one group id, members subscribed to DIFFERENT topics, on
 * the real broker. socstream's group names are fixed (`socstream-process`, …), so two deployments
 * on one cluster with other topic prefixes (a test beside a bench on this machine, staging beside
 * production) share a group. @platformatic/kafka 2.12.1's round-robin assigner hands the LEADER's
 * topics to every member and ignores the others' subscriptions: the other deployment's topics get
 * no owner at all, and the partitions given to a member that does not subscribe to them are never
 * fetched. Its lag stays where it was until the leader leaves (measured: no record of the
 * non-leader's topic in 60 s). Java's assignors give a topic's partitions only to members
 * subscribed to it; src/bus/kafka-assigner.ts does the same. Asserted after both members are in one
 * generation: every partition of both topics has exactly one owner that subscribes to it, and
 * each member reads its whole topic and commits it to the end (lag 0).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { KafkaSubscription } from '../../src/bus/kafka-subscription.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import type { Subscription } from '../../src/core/bus.ts';
import { eventually, keyedRecords, pump, uniqueName } from '../bus/contract.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: Kafka shared-group test NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const BROKERS = '127.0.0.1:9092';
const PARTITIONS = 3;
const RECORDS = 3000;

describe('one group id, members subscribed to different topics', { skip: SKIP }, () => {
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: [BROKERS], client_id: 'socstream-test-shared' }));
  const topics = [uniqueName('shared-x'), uniqueName('shared-y')];
  const group = uniqueName('g-shared');
  const subs: Subscription[] = [];
  after(async () => {
    for (const s of subs) await s.close().catch(() => {});
    await bus.deleteTopics(topics).catch(() => {});
    await bus.close();
  });

  it('every partition of every topic goes to a member that subscribes to it; both topics drain', async () => {
    await bus.createTopics(topics.map((name) => ({ name, partitions: PARTITIONS })));
    for (const t of topics) await bus.publish(t, keyedRecords(RECORDS, 100));

    const seen = topics.map(() => new Set<string>());
    const pumps = [];
    for (const [i, topic] of topics.entries()) {
      const sub = await bus.subscribe({ group, topics: [topic], from: 'earliest', maxBatchRecords: 200 });
      subs.push(sub);
      pumps.push(
        pump(sub, async (batch) => {
          for (const r of batch.records) seen[i].add(`${r.topic}/${r.partition}/${r.offset}`);
          await sub.commit(batch);
        }),
      );
    }
    const generation = (s: Subscription) => (s as KafkaSubscription).membership.generation;
    // Both members in one completed generation (the first one's rejoin after the second joined).
    await eventually(
      'both members in the same generation',
      () => generation(subs[0]) === generation(subs[1]) && subs.every((s) => s.assignments().length > 0),
      60_000,
    );
    const owners = new Map<string, number>();
    for (const [i, s] of subs.entries())
      for (const a of s.assignments()) {
        assert.equal(a.topic, topics[i], `member ${i} (subscribed to ${topics[i]}) was given ${a.topic}`);
        const key = `${a.topic}/${a.partition}`;
        assert.equal(owners.has(key), false, `${key} has two owners`);
        owners.set(key, i);
      }
    assert.equal(owners.size, topics.length * PARTITIONS, 'every partition of both topics has an owner');

    const lag = async () => {
      const ends = await bus.endOffsets(topics);
      const committed = new Map(
        (await bus.committedOffsets(group, topics)).map((o) => [`${o.topic}/${o.partition}`, o.offset]),
      );
      return ends.reduce((n, e) => n + (e.offset - (committed.get(`${e.topic}/${e.partition}`) ?? 0n)), 0n);
    };
    let lastLag = -1n;
    const deadline = Date.now() + 60_000;
    while (lastLag !== 0n) {
      assert.ok(
        Date.now() < deadline,
        `lag ${lastLag} after 60 s (seen ${seen.map((s) => s.size).join(' / ')} of ${RECORDS})`,
      );
      await new Promise((r) => setTimeout(r, 250));
      lastLag = await lag();
    }
    assert.deepEqual(
      seen.map((s) => s.size),
      topics.map(() => RECORDS),
    );
    for (const s of subs) await s.close();
    await Promise.all(pumps.map((p) => p.done));
  });
});
