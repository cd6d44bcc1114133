import assert from 'node:assert/strict';
import { it } from 'node:test';
import { murmur2, partitionForKey } from '../../src/bus/partitioner.ts';

const utf8 = new TextEncoder();

it("computes Kafka's murmur2 (the vectors of Kafka's UtilsTest.testMurmur2)", () => {
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of cases) assert.equal(murmur2(utf8.encode(input)), expected, input);
});

it('maps a key to toPositive(murmur2) % partitions, never negative', () => {
  // -973932308 & 0x7fffffff = 1173551340; % 6 = 0 — an unsigned (>>> 0) hash would give 2
  assert.equal(partitionForKey('21', 6), 1173551340 % 6);
  for (let i = 0; i < 1000; i++) {
    const p = partitionForKey(`10.0.${i >> 8}.${i & 255}`, 7);
    assert.ok(p >= 0 && p < 7);
  }
});
