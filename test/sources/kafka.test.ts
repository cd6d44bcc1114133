/**
 * The kafka source over the in-process memory bus (same Bus contract as Kafka); the same source
 * against the real broker is in test/integration/source-kafka.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { eventId } from '../../src/core/ids.ts';
import { HEADER_POSITION } from '../../src/roles/codec.ts';
import { toRawRecord } from '../../src/roles/ingest.ts';
import { kafkaSource } from '../../src/sources/kafka.ts';
import { collect, fixtureLines, testContext, texts } from './helpers.ts';

const sshd = fixtureLines('sshd.log');
const enc = new TextEncoder();

function source(bus: MemoryBus, extra: Record<string, unknown> = {}) {
  const src = kafkaSource.create(
    kafkaSource.config.parse({ type: 'kafka', topics: ['raw.auth'], group: 'g1', ...extra }),
    { ...testContext(), bus },
  );
  return { src, it: src.batches()[Symbol.asyncIterator]() };
}

async function committed(bus: MemoryBus): Promise<bigint> {
  const offsets = await bus.committedOffsets('g1', ['raw.auth']);
  return offsets.find((o) => o.partition === 0)?.offset ?? 0n;
}

test('records carry kafka positions and the per-topic format; offsets commit only up to the acked prefix', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  await bus.publish(
    'raw.auth',
    sshd.slice(0, 4).map((l) => ({ key: null, value: enc.encode(l) })),
  );
  const { src, it } = source(bus, { max_batch_records: 2, formats: { 'raw.auth': 'sshd' } });
  const batches = await collect(it, (b) => texts(b).length >= 4, { ack: false });
  assert.deepEqual(texts(batches), sshd.slice(0, 4));
  assert.deepEqual(batches[0].records[1].position, {
    kind: 'kafka',
    topic: 'raw.auth',
    partition: 0,
    offset: '1',
  });
  assert.equal(batches[0].records[0].formatHint, 'sshd');
  await batches[1].ack();
  assert.equal(await committed(bus), 0n, 'second batch acked first: nothing committed');
  await batches[0].ack();
  assert.equal(await committed(bus), 4n);
  await src.stop();
  await bus.close();
});

test('unacked records are re-delivered to the next consumer with the same ids', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  await bus.publish(
    'raw.auth',
    sshd.slice(0, 3).map((l) => ({ key: null, value: enc.encode(l) })),
  );
  const first = source(bus);
  const got = await collect(first.it, (b) => texts(b).length >= 3, { ack: false });
  await first.src.stop();
  const second = source(bus);
  const again = await collect(second.it, (b) => texts(b).length >= 3);
  await second.src.stop();
  await bus.close();
  const ids = (b: typeof got) => b.flatMap((x) => x.records.map((r) => eventId(r.position)));
  assert.deepEqual(ids(again), ids(got));
});

test('records published by the ingest role keep their original file position and format hint', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  const original = {
    text: sshd[5],
    byteLength: Buffer.byteLength(sshd[5]),
    position: { kind: 'file' as const, path: '/var/log/auth.log', fileId: '2049:12', offset: 640 },
    formatHint: 'auth',
    receivedAt: 1_770_000_000_000,
  };
  const raw = toRawRecord(original);
  assert.ok(raw.headers?.[HEADER_POSITION]);
  await bus.publish('raw.auth', [
    raw,
    { key: null, value: enc.encode(sshd[4]), headers: { [HEADER_POSITION]: '{not json' } },
  ]);
  const { src, it } = source(bus);
  const [batch] = await collect(it, (b) => texts(b).length >= 2);
  await src.stop();
  await bus.close();
  assert.deepEqual(batch.records[0].position, original.position);
  assert.equal(batch.records[0].formatHint, 'auth');
  assert.equal(eventId(batch.records[0].position), eventId(original.position));
  assert.equal(
    batch.records[1].position.kind,
    'kafka',
    'a malformed header falls back to the kafka position',
  );
});

test('an over-long value is cut and flagged, not dropped', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  await bus.publish('raw.auth', [{ key: null, value: new Uint8Array(5000).fill(0x61) }]);
  const { src, it } = source(bus, { max_message_bytes: 100 });
  const [batch] = await collect(it, (b) => b.length >= 1);
  await src.stop();
  await bus.close();
  assert.deepEqual(
    [batch.records[0].text.length, batch.records[0].byteLength, batch.records[0].tooLong],
    [100, 5000, true],
  );
});

test('a line the ingest role received too long (head only, full length in its header) stays flagged', async () => {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  const raw = toRawRecord({
    text: 'a'.repeat(64),
    byteLength: 50 * 1024 * 1024,
    position: { kind: 'file', path: '/var/log/big.log', fileId: '1:2', offset: 0 },
    receivedAt: 0,
    tooLong: true,
  });
  await bus.publish('raw.auth', [raw]);
  const { src, it } = source(bus);
  const [batch] = await collect(it, (b) => b.length >= 1);
  await src.stop();
  await bus.close();
  assert.deepEqual([batch.records[0].byteLength, batch.records[0].tooLong], [50 * 1024 * 1024, true]);
});
