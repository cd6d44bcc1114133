/**
 * Detection distributed over the bus (issue 5, ARCHITECTURE.md "Two ways to run"), on the memory
 * bus: the process role runs the rules and publishes match messages keyed by rule + group key; a
 * correlate consumer group of TWO members shares the matches partitions. Together they raise
 * exactly the alerts one in-process detector raises over the same events (same ids, same counts),
 * each alert on one member. The same scenario runs on the real broker in
 * test/integration/distributed-detect-kafka.test.ts.
 */
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { assertScenario, distributedDetectScenario } from '../helpers/distributed-detect.ts';

test('two correlate members over re-keyed matches raise exactly the in-process alerts', async () => {
  const bus = new MemoryBus();
  try {
    assertScenario(await distributedDetectScenario(bus, { prefix: '', waitMs: 20_000 }));
  } finally {
    await bus.close();
  }
});
