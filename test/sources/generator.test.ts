import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { createGenerator } from '../../src/generate/generator.ts';
import { GeneratorSource, generatorSourceConfig } from '../../src/sources/generator.ts';

const tmp = mkdtempSync(join(tmpdir(), 'socstream-gen-source-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const START = '2026-01-31T10:00:00.000Z';

test('the generator source yields the generator lines in batches with stream positions and format hints', async () => {
  const telemetry = createTelemetry({ defaultMetrics: false });
  const config = generatorSourceConfig.parse({
    type: 'generator',
    rate: null,
    count: 1200,
    start: START,
    seed: 3,
  });
  const source = new GeneratorSource(config, telemetry);
  await source.start();
  const sizes: number[] = [];
  const texts: string[] = [];
  for await (const batch of source.batches()) {
    sizes.push(batch.records.length);
    for (const r of batch.records) {
      assert.equal(r.position.kind, 'stream');
      if (r.position.kind === 'stream') {
        assert.equal(r.position.sequence, texts.length);
        assert.equal(r.position.name, `generator@${Date.parse(START)}`);
      }
      assert.ok(r.formatHint);
      texts.push(r.text);
    }
    await batch.ack();
  }
  assert.deepEqual(sizes, [500, 500, 200]);
  const g = createGenerator({ scenario: 'mixed', seed: 3, startMs: Date.parse(START), eventsPerSecond: 100 });
  assert.deepEqual(
    texts,
    Array.from({ length: 1200 }, () => g.nextItem().line),
  );
  const metric = await telemetry.registry.getSingleMetricAsString('socstream_source_records_total');
  assert.match(metric, /source="generator:generator"} 1200/);
});

test('a paced generator source stops when stopped and writes its ground truth', async () => {
  const truthPath = join(tmp, 'truth.ndjson');
  const config = generatorSourceConfig.parse({
    type: 'generator',
    scenario: 'threat',
    rate: 2000,
    start: START,
    attack_every_seconds: 0.05,
    truth_path: truthPath,
  });
  const source = new GeneratorSource(config, createTelemetry({ defaultMetrics: false }));
  await source.start();
  let lines = 0;
  for await (const batch of source.batches()) {
    lines += batch.records.length;
    if (lines >= 3000) await source.stop();
  }
  assert.ok(lines >= 3000 && lines < 3600, String(lines));
  const truth = readFileSync(truthPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(truth.length > 0);
  assert.equal(truth[0].scenario, 'threat');
  assert.deepEqual(source.truth().length, truth.length);
});
