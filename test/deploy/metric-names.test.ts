import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { createTelemetry } from '../../src/core/telemetry.ts';

const read = (p: string) => readFileSync(new URL(`../../deploy/${p}`, import.meta.url), 'utf8');

/** Every series name the registry exports, histograms with their _bucket/_sum/_count series. */
async function exportedSeries(): Promise<Set<string>> {
  const metrics = await createTelemetry().registry.getMetricsAsJSON();
  const names = new Set<string>();
  for (const m of metrics) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

function socstreamNames(exprs: string[]): string[] {
  return [...new Set(exprs.flatMap((e) => e.match(/\bsocstream_[a-z0-9_]+/g) ?? []))].sort();
}

function ruleExprs(): string[] {
  const doc = parse(read('prometheus/rules.yml')) as { groups: { rules: { expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => String(r.expr)));
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(read('grafana/dashboards/socstream.json')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

test('every socstream_* metric the Prometheus rules use is exported by the telemetry module', async () => {
  const exported = await exportedSeries();
  const used = socstreamNames(ruleExprs());
  assert.ok(used.length >= 8, used.join(','));
  assert.deepEqual(
    used.filter((n) => !exported.has(n)),
    [],
  );
});

test('every socstream_* metric the Grafana dashboard uses is exported by the telemetry module', async () => {
  const exported = await exportedSeries();
  const used = socstreamNames(dashboardExprs());
  assert.ok(used.length >= 15, used.join(','));
  assert.deepEqual(
    used.filter((n) => !exported.has(n)),
    [],
  );
});

test('the check catches a name that is not exported', async () => {
  const exported = await exportedSeries();
  assert.equal(exported.has('socstream_no_such_metric_total'), false);
  assert.equal(exported.has('socstream_detection_latency_seconds_bucket'), true);
  assert.equal(exported.has('socstream_events_in_total_bucket'), false);
});

test("the dashboard covers the issue's metrics: events, rejects, DLQ, alerts, lag, latency, flushes, buffers, memory", () => {
  const used = socstreamNames(dashboardExprs()).join(' ');
  for (const m of [
    'socstream_events_in_total',
    'socstream_events_out_total',
    'socstream_rejects_total',
    'socstream_dlq_writes_total',
    'socstream_alerts_total',
    'socstream_consumer_lag',
    'socstream_detection_latency_seconds_bucket',
    'socstream_flushes_total',
    'socstream_flush_duration_seconds_bucket',
    'socstream_flush_bytes_total',
    'socstream_buffer_fill_ratio',
    'socstream_process_resident_memory_bytes',
  ])
    assert.ok(used.includes(m), m);
});
