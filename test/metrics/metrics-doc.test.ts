import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { describeMetrics, renderMetricsDoc } from '../../scripts/gen-metrics-doc.ts';

test('docs/metrics.md is generated from the registry and up to date (node scripts/gen-metrics-doc.ts)', async () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  assert.equal(doc, await renderMetricsDoc());
});

test('docs/metrics.md names every exported metric with its type and labels', async () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const metrics = await describeMetrics();
  assert.ok(metrics.length > 20);
  for (const m of metrics) assert.ok(doc.includes(`| \`${m.name}\` | ${m.type} |`), m.name);
  const alerts = metrics.find((m) => m.name === 'socstream_alerts_total');
  assert.deepEqual(alerts?.labels, ['rule', 'level']);
});
