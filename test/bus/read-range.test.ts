/**
 * Bus.readRange, one contract for both buses (the memory bus here, Kafka on 127.0.0.1:9092 unless
 * SOCSTREAM_SKIP_KAFKA=1): records of one partition read back by offset outside any group, after
 * the group committed past them — what a correlate member replays to rebuild its windows — and the
 * group's commit and assignment are not touched.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import type { Bus, ConsumedRecord } from '../../src/core/bus.ts';
import { eventually, keyedRecords, uniqueName } from './contract.ts';

const SKIP_KAFKA =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: readRange on Kafka NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP_KAFKA) process.stderr.write(`\n*** ${SKIP_KAFKA} ***\n\n`);

const text = new TextDecoder();

async function collect(it: AsyncIterable<ConsumedRecord[]>): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
}

function readRangeContract(name: string, makeBus: () => Bus, options: { skip?: string; waitMs: number }) {
  describe(`Bus.readRange (${name})`, { skip: options.skip }, () => {
    let bus: Bus | undefined;
    let topic = '';
    after(async () => {
      if (bus instanceof KafkaBus) await bus.deleteTopics([topic]).catch(() => {});
      await bus?.close();
    });

    it('reads committed records by offset without a group, and leaves the group as it was', async () => {
      bus = makeBus();
      topic = uniqueName('rr');
      const group = uniqueName('rr-group');
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      const sub = await bus.subscribe({ group, topics: [topic], from: 'earliest' });
      const records = keyedRecords(1500, 7);
      await bus.publish(topic, records);
      // Read by hand, not for-await: leaving a for-await loop closes the member.
      const batches = sub[Symbol.asyncIterator]();
      let consumed = 0;
      while (consumed < records.length) {
        const next = await batches.next();
        if (next.done) break;
        consumed += next.value.records.length;
        await sub.commit(next.value);
      }
      await eventually('the member owns the partition', () => sub.assignments().length === 1, options.waitMs);
      const committed = await bus.committedOffsets(group, [topic]);
      assert.deepEqual(committed, [{ topic, partition: 0, offset: 1500n }]);

      const all = await collect(bus.readRange(topic, 0, 0n, 1500n));
      assert.equal(all.length, 1500);
      assert.deepEqual(
        all.map((r) => r.offset),
        Array.from({ length: 1500 }, (_, i) => BigInt(i)),
      );
      assert.equal(text.decode(all[8].value), text.decode(records[8].value));
      assert.equal(all[8].key, records[8].key);
      assert.equal(all[8].headers?.seq, records[8].headers?.seq);

      const middle = await collect(bus.readRange(topic, 0, 1000n, 1010n));
      assert.deepEqual(
        middle.map((r) => [r.offset, text.decode(r.value)]),
        records.slice(1000, 1010).map((r, i) => [BigInt(1000 + i), text.decode(r.value)]),
      );
      assert.deepEqual(await collect(bus.readRange(topic, 0, 1400n, 1400n)), [], 'an empty range');
      const past = await collect(bus.readRange(topic, 0, 1495n, 2000n));
      assert.deepEqual(
        past.map((r) => r.offset),
        [1495n, 1496n, 1497n, 1498n, 1499n],
        'a range past the end stops at the last record',
      );

      assert.deepEqual(await bus.committedOffsets(group, [topic]), committed, 'the commit is untouched');
      assert.deepEqual(sub.assignments(), [{ topic, partition: 0 }], 'the member keeps its partition');
      await sub.close();
    });
  });
}

readRangeContract('memory', () => new MemoryBus({ retainCommittedRecords: 10_000 }), { waitMs: 1000 });
readRangeContract(
  'kafka',
  () => new KafkaBus(kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' })),
  { skip: SKIP_KAFKA, waitMs: 10_000 },
);
