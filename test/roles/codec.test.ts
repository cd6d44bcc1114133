import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumedRecord } from '../../src/core/bus.ts';
import { inputFromRaw } from '../../src/roles/codec.ts';

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
