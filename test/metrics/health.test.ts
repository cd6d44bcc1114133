import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { healthSnapshot, startHealthLog } from '../../src/metrics/health.ts';

test('a health snapshot reports memory, the fullest buffer and the event rate from the registry', async () => {
  const telemetry = createTelemetry({ defaultMetrics: false });
  telemetry.eventsIn.inc({ source: 'zeek', log_type: 'conn' }, 600);
  telemetry.eventsIn.inc({ source: 'sshd', log_type: 'auth' }, 400);
  telemetry.bufferFill.set({ stage: 'parse' }, 0.25);
  telemetry.bufferFill.set({ stage: 'sink' }, 0.755);
  const s = await healthSnapshot(telemetry, { eventsTotal: 500, atMs: 0 }, 2000);
  assert.equal(s.events_total, 1000);
  assert.equal(s.events_per_s, 250);
  assert.deepEqual(s.buffers, { parse: 25, sink: 75.5 });
  assert.equal(s.buffer_pct, 75.5);
  assert.ok(s.rss_mb > 10 && s.heap_used_mb > 1);
});

test('startHealthLog writes a health line every interval until stopped', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const telemetry = createTelemetry({ defaultMetrics: false });
  const health = startHealthLog({ telemetry, logger: createLogger({ destination: sink }), intervalMs: 40 });
  telemetry.eventsIn.inc({ source: 'nginx', log_type: 'access' }, 100);
  await sleep(150);
  health.stop();
  const count = lines.length;
  await sleep(100);
  assert.equal(lines.length, count, 'no line after stop');
  assert.ok(count >= 2, `lines: ${count}`);
  assert.equal(lines[0].msg, 'health');
  assert.equal(lines[0].events_total, 100);
  assert.ok((lines[0].events_per_s as number) > 0);
  assert.equal(lines[1].events_per_s, 0);
  for (const key of ['rss_mb', 'heap_used_mb', 'buffer_pct', 'buffers']) assert.ok(key in lines[0], key);
});

test('a health snapshot names the sinks blocked on their storage (lake disk full)', async () => {
  const telemetry = createTelemetry({ defaultMetrics: false });
  assert.deepEqual((await healthSnapshot(telemetry, { eventsTotal: 0, atMs: 0 }, 1000)).blocked_sinks, []);
  telemetry.sinkBlocked.set({ sink: 'lake' }, 1);
  const s = await healthSnapshot(telemetry, { eventsTotal: 0, atMs: 0 }, 1000);
  assert.deepEqual(s.blocked_sinks, ['lake']);
  assert.ok(s.external_mb >= 0);
});
