/**
 * Admin rule reload (issue 7): new rule files take effect in the running process and correlate
 * roles without a restart. Threat events from the threat-analyzer seed go through the embedded
 * pipeline on the memory bus.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/loader.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { startRuntime } from '../../src/pipeline/runtime.ts';
import { decodeJson } from '../../src/roles/codec.ts';

const encoder = new TextEncoder();
// The threat-analyzer seed's sample events (shared/seeds/001).
const HIGH = '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}';
const CRITICAL = '{"host": "endpoint03", "threat": "exploit_attempt", "severity": "critical"}';

test('reloading the rules makes a newly added rule alert, without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-reload-'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  copyFileSync('rules/threat_critical.yml', join(rules, 'threat_critical.yml'));
  const config = validateConfig(
    {
      data_dir: dir,
      sources: [{ type: 'kafka', topics: ['threats'], format: 'threat-json' }],
      detect: { rules: [rules] },
      dlq: { path: join(dir, 'dlq.ndjson') },
      topics: { partitions: 1 },
    },
    'reload.test',
  );
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const runtime = await startRuntime({
    config,
    file: 'reload.test',
    roles: new Set(['process', 'correlate']),
    logger,
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  const alerts = await runtime.bus.subscribe({ group: 'reload-test', topics: [config.topics.alerts] });
  const seen: Alert[] = [];
  const reader = (async () => {
    for await (const batch of alerts) {
      for (const r of batch.records) seen.push(decodeJson<Alert>(r));
      await alerts.commit(batch);
    }
  })();
  const send = (line: string) => runtime.bus.publish('threats', [{ key: null, value: encoder.encode(line) }]);
  const waitFor = async (title: string) => {
    const deadline = Date.now() + 20_000;
    while (!seen.some((a) => a.rule_title === title) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    return seen.some((a) => a.rule_title === title);
  };
  try {
    await send(HIGH);
    await send(CRITICAL);
    assert.ok(await waitFor('Endpoint threat, severity critical'));
    assert.equal(
      seen.some((a) => a.rule_title === 'Endpoint threat, severity high'),
      false,
    );

    copyFileSync('rules/threat_high.yml', join(rules, 'threat_high.yml'));
    const result = await runtime.reloadRules();
    assert.deepEqual(result, { rules: 2, correlations: 0, problems: 0 });
    await send(HIGH);
    assert.ok(await waitFor('Endpoint threat, severity high'), 'the reloaded rule did not alert');
  } finally {
    await alerts.close();
    await reader;
    await runtime.stop();
  }
});
