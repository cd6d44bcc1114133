import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planFromFlags } from '../../src/cli/generate.ts';

type Flags = Parameters<typeof planFromFlags>[0];
const base: Flags = {
  scenario: 'mixed',
  seed: '1',
  to: 'stdout',
  zeek: 'json',
  brokers: '',
  partitions: '6',
};
const plan = (flags: Partial<Flags>) => planFromFlags({ ...base, ...flags });

it('--rate paces and sets the event-time density; --time-rate beside it keeps its own density', () => {
  assert.deepEqual(plan({ count: '10', rate: '1000' }), { total: 10, rate: 1000, eventsPerSecond: 1000 });
  assert.deepEqual(plan({ count: '10', rate: '1000', timeRate: '100' }), {
    total: 10,
    rate: 1000,
    eventsPerSecond: 100,
  });
  assert.equal(plan({ count: '10' }).eventsPerSecond, 100);
});
