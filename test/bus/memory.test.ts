import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus, RecordsReleasedError } from '../../src/bus/memory.ts';
import { busContract, keyedRecords, pump, uniqueName } from './contract.ts';

busContract('memory', async () => new MemoryBus({ queueCapacity: 10_000 }), { waitMs: 10_000 });

describe('MemoryBus specifics', () => {
  it('makes publish wait while a partition holds queue_capacity uncommitted records, and resumes on commit', async () => {
    const bus = new MemoryBus({ queueCapacity: 10 });
    const topic = uniqueName('bp');
    await bus.createTopics([{ name: topic, partitions: 1 }]);
    const sub = await bus.subscribe({ group: 'g', topics: [topic], from: 'earliest', maxBatchRecords: 5 });
    let published = false;
    const publishing = bus.publish(topic, keyedRecords(25, 5)).then(() => {
      published = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(published, false, 'publish is held back by the uncommitted backlog');
    const ends = await bus.endOffsets([topic]);
    assert.equal(ends[0].offset, 10n, 'exactly queue_capacity records were accepted');

    let received = 0;
    const p = pump(sub, async (batch) => {
      received += batch.records.length;
      await sub.commit(batch);
    });
    await publishing;
    while (received < 25) await new Promise((r) => setTimeout(r, 5));
    await sub.close();
    await p.done;
    assert.equal(received, 25);
    await bus.close();
  });

  it('consumed() resolves once every subscribed group committed past a publish, at once without a group, and rejects when the bus closes', async () => {
    const bus = new MemoryBus();
    const topic = uniqueName('consumed');
    await bus.createTopics([{ name: topic, partitions: 1 }]);
    const a = await bus.subscribe({ group: 'a', topics: [topic], from: 'earliest' });
    const b = await bus.subscribe({ group: 'b', topics: [topic], from: 'earliest' });
    const records = keyedRecords(6, 2);
    await bus.publish(topic, records);
    let consumed = false;
    const waiting = bus.consumed(topic, records).then(() => {
      consumed = true;
    });
    const all = { topic, partition: 0, offset: 6n };
    await a.commitOffsets([{ ...all, offset: 3n }]);
    await b.commitOffsets([all]);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(consumed, false, 'group a has committed only half');
    await a.commitOffsets([all]);
    await waiting;
    assert.equal(consumed, true);

    const lonely = uniqueName('nobody');
    const alone = keyedRecords(3, 1);
    await bus.publish(lonely, alone);
    await bus.consumed(lonely, alone);

    const pending = keyedRecords(2, 1);
    await bus.publish(topic, pending);
    const closing = bus.consumed(topic, pending);
    await bus.close();
    await assert.rejects(closing, { name: 'BusClosedError' });
  });

  it('tells a member that has read all it owns while a publisher waits on its commits (onStall), and only then', async () => {
    const bus = new MemoryBus({ queueCapacity: 10 });
    const topic = uniqueName('stall');
    await bus.createTopics([{ name: topic, partitions: 1 }]);
    let stalls = 0;
    const held: Array<{ records: { offset: bigint }[] }> = [];
    const sub = await bus.subscribe({
      group: 'g',
      topics: [topic],
      from: 'earliest',
      maxBatchRecords: 4,
      // A consumer that commits only on a flush: what it holds is committed when it is told.
      onStall: () => {
        stalls++;
        const batches = held.splice(0);
        for (const b of batches) void sub.commit(b as never);
      },
    });
    let received = 0;
    const p = pump(sub, async (batch) => {
      received += batch.records.length;
      held.push(batch);
    });
    await bus.publish(topic, keyedRecords(5, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(received, 5);
    assert.equal(stalls, 0, 'no publisher waits: the consumer is not told to flush');
    // 30 more records through a queue of 10: the publisher waits each time the backlog is full.
    const publishing = bus.publish(topic, keyedRecords(30, 5));
    const deadline = Date.now() + 5000;
    while (received < 35 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(received, 35, 'every record arrived without a timed flush');
    await publishing;
    assert.ok(stalls >= 2, `told to flush each time the publisher waited (${stalls})`);
    await sub.close();
    await p.done;
    await bus.close();
  });

  it('keeps only the newest queue_capacity records of a topic no group subscribed to, without blocking', async () => {
    const bus = new MemoryBus({ queueCapacity: 10 });
    const topic = uniqueName('ring');
    await bus.createTopics([{ name: topic, partitions: 1 }]);
    await bus.publish(topic, keyedRecords(25, 5));
    const sub = await bus.subscribe({ group: 'late', topics: [topic], from: 'earliest' });
    const it = sub[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    assert.deepEqual(
      first.value.records.map((r) => r.offset),
      Array.from({ length: 10 }, (_, i) => BigInt(15 + i)),
    );
    await sub.close();
    await bus.close();
  });

  it('assigns partitions round-robin when configured, range by default', async () => {
    const layouts: Record<string, number[][]> = {};
    for (const assignment of ['range', 'round_robin'] as const) {
      const bus = new MemoryBus({ assignment });
      await bus.createTopics([{ name: 't', partitions: 6 }]);
      const a = await bus.subscribe({ group: 'g', topics: ['t'] });
      const b = await bus.subscribe({ group: 'g', topics: ['t'] });
      layouts[assignment] = [a, b].map((s) => s.assignments().map((x) => x.partition));
      await bus.close();
    }
    assert.deepEqual(layouts.range, [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    assert.deepEqual(layouts.round_robin, [
      [0, 2, 4],
      [1, 3, 5],
    ]);
  });

  it('spreads records without a key over all partitions', async () => {
    const bus = new MemoryBus();
    await bus.createTopics([{ name: 'nokey', partitions: 3 }]);
    await bus.publish(
      'nokey',
      Array.from({ length: 9 }, () => ({ key: null, value: new Uint8Array([1]) })),
    );
    assert.deepEqual(
      (await bus.endOffsets(['nokey'])).map((e) => e.offset),
      [3n, 3n, 3n],
    );
    await bus.close();
  });

  it('with releaseDelivered, lets a record go once every subscribed group fetched it, and still commits and settles consumed()', async () => {
    const bus = new MemoryBus({ releaseDelivered: true });
    const topic = uniqueName('release');
    await bus.createTopics([{ name: topic, partitions: 1 }]);
    const a = await bus.subscribe({ group: 'a', topics: [topic], from: 'earliest' });
    const b = await bus.subscribe({ group: 'b', topics: [topic], from: 'earliest' });
    const records = keyedRecords(4, 1);
    await bus.publish(topic, records);
    const consumed = bus.consumed(topic, records);
    const held = () => bus.partition(topic, 0)?.records.filter((r) => r !== null).length;

    const fromA = await a[Symbol.asyncIterator]().next();
    assert.equal(fromA.value.records.length, 4);
    assert.equal(held(), 4, 'group b has not fetched them yet: kept');
    const fromB = await b[Symbol.asyncIterator]().next();
    assert.equal(held(), 0, 'every group fetched them: only their offsets are kept');
    assert.deepEqual(fromB.value.records[3].value, records[3].value, 'what was delivered is intact');

    let settled = false;
    void consumed.then(() => {
      settled = true;
    });
    await a.commit(fromA.value);
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'group b has not committed');
    await b.commit(fromB.value);
    await consumed;
    assert.deepEqual(await bus.committedOffsets('b', [topic]), [{ topic, partition: 0, offset: 4n }]);
    await bus.close();
  });

  it('with releaseDelivered, a member that must read released records again fails with RecordsReleasedError; without, they are delivered again', async () => {
    for (const releaseDelivered of [true, false]) {
      const bus = new MemoryBus({ releaseDelivered });
      const topic = uniqueName('redeliver');
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.publish(topic, keyedRecords(3, 1));
      const first = await bus.subscribe({ group: 'g', topics: [topic], from: 'earliest' });
      assert.equal((await first[Symbol.asyncIterator]().next()).value.records.length, 3);
      await first.close(); // nothing committed
      const second = await bus.subscribe({ group: 'g', topics: [topic], from: 'earliest' });
      const again = second[Symbol.asyncIterator]().next();
      if (releaseDelivered) {
        await assert.rejects(again, RecordsReleasedError);
        const ranged = (async () => {
          for await (const _ of bus.readRange(topic, 0, 0n, 3n));
        })();
        await assert.rejects(ranged, RecordsReleasedError, 'readRange does not skip them silently');
      } else assert.equal((await again).value.records.length, 3, 'redelivered from the commit');
      await bus.close();
    }
  });

  it('ends the iteration of open subscriptions when the bus closes', async () => {
    const bus = new MemoryBus();
    const sub = await bus.subscribe({ group: 'g', topics: ['idle'] });
    const p = pump(sub, () => {});
    await bus.close();
    await p.done;
    assert.deepEqual(sub.assignments().length, 6, 'assignments are kept for inspection');
  });
});
