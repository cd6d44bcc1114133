/**
 * `socstream generate --to kafka:TOPIC` on the real broker (npm run kafka:start): every line
 * arrives, in order per key, with its format header and its entity as the key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { createGenerator } from '../../src/generate/generator.ts';
import { kafkaBusFor } from '../helpers/kafka.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: generate --to kafka NOT tested (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const prefix = `test-generate-${randomUUID().slice(0, 8)}`;
const created: string[] = [];

after(async () => {
  if (SKIP) return;
  const bus = new KafkaBus(config);
  await bus.deleteTopics(created).catch(() => {});
  await bus.close();
});

test('generate --to kafka:{format} topics: every line arrives with its format header, its key and the produce time', {
  skip: SKIP,
}, async (t) => {
  const COUNT = 3000;
  const startedAt = Date.now();
  const args = [
    '--scenario',
    'mixed',
    '--count',
    String(COUNT),
    '--seed',
    '4',
    '--start',
    '2026-01-31T10:00:00Z',
  ];
  const r = spawnSync(
    process.execPath,
    [
      new URL('../../src/cli/main.ts', import.meta.url).pathname,
      'generate',
      ...args,
      '--to',
      `kafka:${prefix}.{format}`,
      '--partitions',
      '2',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const g = createGenerator({ scenario: 'mixed', seed: 4, startMs: Date.parse('2026-01-31T10:00:00Z') });
  const expected = Array.from({ length: COUNT }, () => g.nextItem());
  const formats = [...new Set(expected.map((i) => i.format))];
  const topics = formats.map((f) => `${prefix}.${f}`);
  created.push(...topics, `${prefix}.zeek-json`);

  const bus = kafkaBusFor(t, config);
  const sub = await bus.subscribe({ group: `${prefix}-reader`, topics, from: 'earliest', maxWaitMs: 200 });
  const received: { topic: string; key: string | null; value: string; format?: string; timestamp: number }[] =
    [];
  const deadline = Date.now() + 60_000;
  for await (const batch of sub) {
    for (const rec of batch.records)
      received.push({
        topic: rec.topic,
        key: rec.key,
        value: new TextDecoder().decode(rec.value),
        format: rec.headers?.format,
        timestamp: rec.timestamp,
      });
    if (received.length >= COUNT || Date.now() > deadline) break;
  }
  await sub.close();
  await bus.close();

  assert.equal(received.length, COUNT);
  const byLine = new Map(expected.map((i) => [i.line, i]));
  for (const rec of received) {
    const item = byLine.get(rec.value);
    assert.ok(item, `unexpected record ${rec.value.slice(0, 80)}`);
    assert.equal(rec.topic, `${prefix}.${item.format}`);
    assert.equal(rec.format, item.format);
    assert.equal(rec.key, item.key);
    // The produce time, not the 2026-01-31 event time: time retention must not delete the lines.
    assert.ok(rec.timestamp >= startedAt, `record timestamp ${rec.timestamp} is before the run`);
  }
  // Per key (one partition), records keep the generator's order.
  const position = new Map(expected.map((i, n) => [i.line, n]));
  const lastByKey = new Map<string, number>();
  for (const rec of received) {
    const k = `${rec.topic}/${rec.key}`;
    const n = position.get(rec.value)!;
    assert.ok((lastByKey.get(k) ?? -1) < n, `out of order for ${k}`);
    lastByKey.set(k, n);
  }
});
