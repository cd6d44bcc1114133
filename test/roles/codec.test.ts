import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionForKey } from '../../src/bus/partitioner.ts';
import type { ConsumedRecord } from '../../src/core/bus.ts';
import { type EventMatchMessage, messageKey } from '../../src/detect/matches.ts';
import {
  decodeMatches,
  inputFromRaw,
  lastPerPartition,
  MAX_PACKED_MATCHES,
  matchRecords,
} from '../../src/roles/codec.ts';

function record(headers: Record<string, string>): ConsumedRecord {
  return {
    topic: 'raw.generated',
    partition: 1,
    offset: 7n,
    key: null,
    value: new TextEncoder().encode('{"_path":"conn","ts":"2026-03-02T08:00:00.360901Z"}'),
    headers,
    timestamp: 0,
  } as ConsumedRecord;
}

test("the generator's plain `format` header is the format hint when nothing else names one", () => {
  assert.equal(inputFromRaw(record({ format: 'zeek-json' }), undefined).formatHint, 'zeek-json');
});

test('the socstream-format header, then the configured format, win over a plain `format` header', () => {
  assert.equal(
    inputFromRaw(record({ format: 'zeek-json', 'socstream-format': 'suricata-eve' }), 'json').formatHint,
    'suricata-eve',
  );
  assert.equal(inputFromRaw(record({ format: 'zeek-json' }), 'json').formatHint, 'json');
});

test('records produced by anything else are identified by topic/partition/offset', () => {
  assert.deepEqual(inputFromRaw(record({}), undefined).position, {
    kind: 'kafka',
    topic: 'raw.generated',
    partition: 1,
    offset: '7',
  });
});

function eventMatch(i: number, host: string): EventMatchMessage {
  return {
    type: 'event',
    rule_id: i % 3 === 0 ? 'threat-critical' : 'threat-high',
    event_id: `id-${i}`,
    event_time: 1_769_853_600_000 + i * 10,
    group: { 'host.name': host },
    source: 'threats',
    log_type: 'threat',
    origin: 'raw.threats:2',
    clock: 1_769_853_600_000 + i * 10,
    seq: i * 1024,
  };
}

test('packed match records: each partition receives exactly its messages, in their order, on the partition their keys pick', () => {
  const partitions = 6;
  const messages = Array.from({ length: 1500 }, (_, i) => eventMatch(i, `endpoint${(i * 7919) % 40}`));
  // Plus a run of one key long enough to fill several packed records.
  for (let i = 1500; i < 1500 + 2 * MAX_PACKED_MATCHES + 3; i++)
    messages.push(eventMatch(i * 3, 'endpoint999'));
  const records = matchRecords(messages, partitions);
  assert.ok(
    records.length < messages.length / 20,
    `${records.length} records for ${messages.length} messages`,
  );
  const received = new Map<number, unknown[]>();
  for (const r of records) {
    const p = partitionForKey(r.key as string, partitions);
    const unpacked = decodeMatches(r);
    assert.ok(unpacked.length <= MAX_PACKED_MATCHES);
    for (const m of unpacked) {
      assert.equal(partitionForKey(messageKey(m as EventMatchMessage), partitions), p);
      received.set(p, [...(received.get(p) ?? []), m]);
    }
  }
  for (let p = 0; p < partitions; p++) {
    const sent = messages.filter((m) => partitionForKey(messageKey(m), partitions) === p);
    assert.deepEqual(received.get(p) ?? [], sent, `partition ${p}`);
  }
});

test('match records without the partition count: one record per message, a plain object each', () => {
  const messages = [eventMatch(1, 'a'), eventMatch(2, 'b')];
  const records = matchRecords(messages, undefined);
  assert.deepEqual(
    records.map((r) => r.key),
    messages.map(messageKey),
  );
  assert.deepEqual(
    records.map(decodeMatches),
    messages.map((m) => [m]),
  );
  // A lone message for a partition is a plain object too (what a foreign producer sends).
  assert.equal(JSON.parse(Buffer.from(matchRecords([messages[0]], 6)[0].value).toString()).event_id, 'id-1');
});

test("lastPerPartition: each partition's last record, in order of first appearance", () => {
  const r = (topic: string, partition: number, offset: number) => ({ topic, partition, offset });
  const records = [
    r('a', 0, 1),
    r('a', 0, 2),
    r('a', 1, 5),
    r('b', 0, 9),
    r('a', 0, 3),
    r('a', 1, 6),
    r('a', 1, 7),
  ];
  assert.deepEqual(lastPerPartition(records), [r('a', 0, 3), r('a', 1, 7), r('b', 0, 9)]);
  assert.deepEqual(lastPerPartition([]), []);
});
