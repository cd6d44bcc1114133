/**
 * The whole embedded pipeline (memory bus, every role but serve) scored against the generator's
 * ground truth (issue 8): every attack of a `mixed` run of 200,000 events is alerted, and a
 * `normal` run of the same size raises nothing. Also: every produced event lands in the lake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/loader.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import type { TruthRecord } from '../../src/generate/generator.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { createAlertStore } from '../../src/pipeline/alerts.ts';
import { startRuntime } from '../../src/pipeline/runtime.ts';
import { ruleIdsByName, scoreAlerts } from '../helpers/score.ts';

const EVENTS = 200_000;
const START = '2026-03-02T08:00:00Z';

async function runScenario(scenario: 'mixed' | 'normal') {
  const dir = mkdtempSync(join(tmpdir(), `socstream-runtime-${scenario}-`));
  const truthPath = join(dir, 'truth.ndjson');
  const config = validateConfig(
    {
      data_dir: dir,
      sources: [
        {
          type: 'generator',
          name: scenario,
          scenario,
          rate: null,
          count: EVENTS,
          seed: 7,
          start: START,
          truth_path: truthPath,
        },
      ],
      lake: { dir: join(dir, 'lake'), flush_interval_seconds: 1 },
      alert_store: { sqlite_path: join(dir, 'alerts.db') },
      dlq: { path: join(dir, 'dlq.ndjson') },
      topics: { partitions: 2 },
    },
    'runtime.test',
  );
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const runtime = await startRuntime({
    config,
    file: 'runtime.test',
    roles: new Set(['ingest', 'process', 'correlate', 'store']),
    logger,
    telemetry: createTelemetry({ defaultMetrics: false }),
    drainTimeoutMs: 120_000,
  });
  await runtime.sourcesEnded;
  await runtime.stop();
  const store = createAlertStore(config.alert_store, dir);
  await store.start();
  const alerts: Alert[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.list({ limit: 1000, cursor });
    alerts.push(...page.alerts);
    cursor = page.next_cursor;
  } while (cursor);
  await store.close();
  const truth = readFileSync(truthPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TruthRecord);
  const lake = await LakeQuery.open({ lakeDir: config.lake.dir });
  const rows = await lake.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events');
  lake.close();
  return { alerts, truth, lakeRows: Number(rows.rows[0][0]), lakeIds: Number(rows.rows[0][1]) };
}

const ruleIds = ruleIdsByName(loadRules(['rules']));

test('mixed: every attack in 200,000 generated events is alerted, and every event is in the lake', async () => {
  const { alerts, truth, lakeRows, lakeIds } = await runScenario('mixed');
  assert.ok(truth.length >= 8, `only ${truth.length} attacks generated`);
  const score = scoreAlerts(truth, alerts, ruleIds);
  assert.deepEqual(score.misses, [], `${score.detected}/${score.expected} expected detections`);
  assert.equal(lakeIds, EVENTS);
  assert.ok(lakeRows >= EVENTS);
});

test('normal: 200,000 events of background traffic raise no alert', async () => {
  const { alerts, lakeIds } = await runScenario('normal');
  assert.deepEqual(
    alerts.map((a) => `${a.rule_title} ${JSON.stringify(a.group)} x${a.count}`),
    [],
  );
  assert.equal(lakeIds, EVENTS);
});
