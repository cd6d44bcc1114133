/**
 * Draining at shutdown (issue 8: SIGTERM drains, flushes and commits within a bounded time): the
 * store role commits only what its lake flushed, so a drain must not wait for
 * lake.flush_interval_seconds. With every flush condition far away, the drain still completes and
 * every event is in the lake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/loader.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { startRuntime } from '../../src/pipeline/runtime.ts';

const EVENTS = 5_000;

test('drain flushes the lake instead of waiting for its flush interval: the groups catch up and every event is stored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-runtime-drain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = validateConfig(
    {
      data_dir: dir,
      sources: [{ type: 'generator', name: 'drain', scenario: 'mixed', rate: null, count: EVENTS, seed: 5 }],
      // No flush condition fires during the test: only an explicit flush writes files.
      lake: {
        dir: join(dir, 'lake'),
        flush_interval_seconds: 3600,
        flush_event_count: 0,
        flush_buffer_mb: 0,
      },
      alert_store: { sqlite_path: join(dir, 'alerts.db') },
      dlq: { path: join(dir, 'dlq.ndjson') },
      topics: { partitions: 2 },
    },
    'runtime-drain.test',
  );
  const runtime = await startRuntime({
    config,
    file: 'runtime-drain.test',
    roles: new Set(['ingest', 'process', 'correlate', 'store']),
    logger: createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  await runtime.sourcesEnded;
  // Generous for a loaded machine; without the flush the drain could only end after an hour.
  const drained = await runtime.drain(60_000);
  await runtime.stop();
  assert.equal(drained, true, 'every group committed what was produced');
  const lake = await LakeQuery.open({ lakeDir: config.lake.dir });
  const rows = await lake.query('SELECT count(DISTINCT id) AS ids FROM events');
  lake.close();
  assert.equal(Number(rows.rows[0][0]), EVENTS);
});
