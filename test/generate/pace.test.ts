import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGenerator } from '../../src/generate/generator.ts';
import type { LineOutput } from '../../src/generate/output.ts';
import { TokenBucket } from '../../src/generate/pace.ts';
import { runGeneration } from '../../src/generate/run.ts';
import { START } from './helpers.ts';

test('a token bucket hands out rate × elapsed tokens on a simulated clock', () => {
  let now = 0;
  const bucket = new TokenBucket(1000, { now: () => now });
  let taken = bucket.take(10_000);
  for (let ms = 1; ms <= 5000; ms++) {
    now = ms;
    taken += bucket.take(10_000);
  }
  // 1 initial token + 1000/s for 5 s.
  assert.equal(taken, 5001);
});

test('a stalled writer cannot burst more than the bucket holds', () => {
  let now = 0;
  const bucket = new TokenBucket(1000, { now: () => now });
  bucket.take(1);
  now = 10_000; // ten seconds stalled
  assert.equal(bucket.take(1_000_000), 100); // 100 ms worth, not 10,000
  assert.ok(bucket.waitMs() > 0);
});

test('a paced run writes exactly the requested lines, timed by the simulated clock', async () => {
  let now = 0;
  const written: number[] = [];
  const output: LineOutput = {
    async write(items) {
      for (const it of items) written.push(it.timeMs);
      now += 7; // every write takes 7 ms of simulated time
    },
    async close() {},
  };
  const generator = createGenerator({ scenario: 'normal', startMs: START, eventsPerSecond: 2000 });
  const stats = await runGeneration({ generator, output, total: 4000, rate: 2000, now: () => now });
  assert.equal(stats.events, 4000);
  assert.equal(written.length, 4000);
  // Simulated: 4000 events at 2000/s need ~2 s of clock; achieved rate within 2%.
  assert.ok(Math.abs(stats.eventsPerSecond - 2000) / 2000 < 0.02, String(stats.eventsPerSecond));
  assert.equal(written.at(-1), START + Math.floor((3999 * 1000) / 2000));
});
