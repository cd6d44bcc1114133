/**
 * Detection distributed over the bus (issue 5, ARCHITECTURE.md "Two ways to run"), on the memory
 * bus: the process role runs the rules and publishes match messages keyed by rule + group key; a
 * correlate consumer group of TWO members shares the matches partitions. Together they raise
 * exactly the alerts one in-process detector raises over the same events (same ids, same counts),
 * each alert on one member. The same scenario runs on the real broker in
 * test/integration/distributed-detect-kafka.test.ts.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import { validateConfig } from '../../src/config/loader.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { createCorrelationState } from '../../src/detect/detector.ts';
import type { EventMatchMessage } from '../../src/detect/matches.ts';
import { detectorOptions } from '../../src/pipeline/build.ts';
import { createCorrelateRole } from '../../src/roles/correlate.ts';
import { assertScenario, distributedDetectScenario } from '../helpers/distributed-detect.ts';

test('two correlate members over re-keyed matches raise exactly the in-process alerts', async () => {
  const bus = new MemoryBus();
  try {
    assertScenario(await distributedDetectScenario(bus, { prefix: '', waitMs: 20_000 }));
  } finally {
    await bus.close();
  }
});

test('correlate role: a record that is no match message is counted and skipped, the stream goes on', async () => {
  const bus = new MemoryBus();
  const telemetry = createTelemetry({ defaultMetrics: false });
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const config = validateConfig(
    { data_dir: tmpdir(), detect: { rules: [new URL('../../rules/', import.meta.url).pathname] } },
    'bad-record',
  );
  const options = detectorOptions(config, { logger, telemetry });
  await bus.createTopics([{ name: 'matches', partitions: 1 }]);
  const written: Alert[] = [];
  const role = createCorrelateRole({
    bus,
    group: 'correlate',
    topic: 'matches',
    state: createCorrelationState(options),
    output: { name: 'memory', write: async (a) => void written.push(...a), stop: async () => {} },
    ctx: { logger, telemetry },
  });
  const run = role.run();
  await role.ready;
  const threat = options.ruleSet.rules.find((r) => r.level === 'critical');
  assert.ok(threat, 'the pack has a critical single-event rule');
  const good: EventMatchMessage = {
    type: 'event',
    rule_id: threat.id,
    event_id: 'e1',
    event_time: Date.UTC(2026, 0, 1),
    origin: 'raw:0',
    clock: Date.UTC(2026, 0, 1),
    group: { host: 'endpoint01' },
    source: 'threat',
    log_type: 'threat',
  };
  const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
  await bus.publish('matches', [
    { key: 'x', value: enc('{not json') },
    { key: 'x', value: enc({ id: 'an envelope', normalized: {} }) },
    { key: 'x', value: enc(good) },
  ]);
  const deadline = Date.now() + 10_000;
  while (written.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await role.stop();
  await run;
  await bus.close();
  assert.deepEqual(
    written.map((a) => [a.rule_id, a.group.host, a.event_ids]),
    [[threat.id, 'endpoint01', ['e1']]],
  );
  const rejects = await telemetry.rejects.get();
  const bad = rejects.values.find((v) => v.labels.reason === 'correlate_bad_record');
  assert.equal(bad?.value, 2);
});
