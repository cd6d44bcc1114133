import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPartitionClocks } from '../../src/detect/watermark.ts';

test('the clock is the minimum over partitions with data, and never goes back', () => {
  const c = createPartitionClocks(30_000);
  assert.equal(c.clock(), Number.NEGATIVE_INFINITY);
  assert.equal(c.observe('a', 1000, 0), 1000);
  assert.equal(c.observe('b', 500, 0), 1000, 'a partition joining behind does not move the clock back');
  assert.equal(c.observe('a', 5000, 0), 1000, 'b holds it');
  assert.equal(c.observe('b', 3000, 0), 3000);
  assert.equal(c.observe('b', 9000, 0), 5000, 'now a holds it');
  assert.equal(c.observe('a', 4000, 0), 5000, 'an older event of a leaves its max alone');
});

test('assigned partitions hold the clock at −∞ until they deliver; idle ones leave the minimum', () => {
  const c = createPartitionClocks(30_000);
  c.assign(['a', 'b'], 0);
  assert.equal(c.observe('a', 1000, 0), Number.NEGATIVE_INFINITY);
  c.expireIdle(20_000);
  assert.equal(c.clock(), Number.NEGATIVE_INFINITY, 'b is not idle yet');
  assert.equal(c.observe('a', 2000, 40_000), Number.NEGATIVE_INFINITY);
  c.expireIdle(40_000);
  assert.equal(c.clock(), 2000, 'b silent for 40 s: only a counts');
  assert.equal(c.observe('b', 100, 41_000), 2000, 'b rejoins behind the clock: the clock stays');
  assert.deepEqual(
    c.partitions().map((p) => [p.partition, p.max, p.active]),
    [
      ['a', 2000, true],
      ['b', 100, true],
    ],
  );
  c.assign(['a'], 41_000);
  assert.deepEqual(
    c.partitions().map((p) => p.partition),
    ['a'],
    'a revoked partition is forgotten',
  );
  c.raise(10_000);
  assert.equal(c.clock(), 10_000);
});
