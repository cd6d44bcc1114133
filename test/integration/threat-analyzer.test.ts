/**
 * The threat-analyzer seed end to end on the real broker (npm run kafka:start): JSON threat events
 * sent with Kafka's own console producer to a `threat-events-*` topic are consumed by the kafka
 * source, parsed, normalized, run through the bundled rule pack, and printed as `[ALERT]` lines for
 * high and critical ones; a malformed line goes to the DLQ topic and the stream goes on.
 *
 * The glue between the pieces (source batch → parse → normalize → detect → console, rejects → DLQ,
 * then ack) is written here: it is the process role's loop, reduced to this flow.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema, topicsSchema } from '../../src/config/schema.ts';
import type { Envelope, Reject } from '../../src/core/envelope.ts';
import { eventId } from '../../src/core/ids.ts';
import { createDetector } from '../../src/detect/detector.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { createMatcher } from '../../src/detect/sigma/matcher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { parserFor } from '../../src/parsers/registry.ts';
import { createConsoleAlertOutput } from '../../src/sinks/alert-console.ts';
import { dlqKafka } from '../../src/sinks/dlq-kafka.ts';
import { kafkaSource } from '../../src/sources/kafka.ts';
import { detectConfig } from '../detect/helpers.ts';
import { testContext } from '../sources/helpers.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: threat-analyzer end-to-end test NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const ROOT = new URL('../../', import.meta.url).pathname;
const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test-threat' });
const created: string[] = [];
const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

after(async () => {
  if (SKIP || created.length === 0) return;
  const admin = new KafkaBus(config);
  await admin.deleteTopics(created).catch(() => {});
  await admin.close();
});

// The seed's producer output, plus one broken line and one event after it.
const LINES = [
  '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}',
  '{"host": "endpoint02", "threat": "unknown_process", "severity": "low"}',
  '{"host": "endpoint03", "threat": "exploit_attempt", "severity": "critical"}',
  '{"host": "endpoint04", "threat": "brute_force_attempt", "severity": "critical"}',
  '{"host": "endpoint05", "threat": "trojan.exe", "severity": ',
  '{"host": "endpoint06", "threat": "ransomware.exe", "severity": "critical"}',
];

test('threat events from the console producer become [ALERT] lines; a malformed one goes to the DLQ', async (t) => {
  if (SKIP) return t.skip(SKIP);
  const topic = unique('threat-events');
  const dlqTopic = unique('dlq-threat');
  created.push(topic, dlqTopic);
  const bus = new KafkaBus(config);
  t.after(() => bus.close());
  await bus.createTopics([
    { name: topic, partitions: 1 },
    { name: dlqTopic, partitions: 1 },
  ]);

  // Kafka's own console producer, as the seed's users send events.
  const produced = spawnSync(
    process.execPath,
    [`${ROOT}scripts/kafka.ts`, 'console-producer', '--topic', topic],
    {
      input: `${LINES.join('\n')}\n`,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(produced.status, 0, `console producer failed: ${produced.stderr}`);

  const ctx = { ...testContext(), bus };
  const source = kafkaSource.create(
    kafkaSource.config.parse({
      type: 'kafka',
      topics: [topic],
      group: unique('socstream-threat'),
      format: 'threat-json',
      max_wait_ms: 200,
    }),
    ctx,
  );
  const topics = { ...topicsSchema.parse({}), dlq: dlqTopic };
  const dlq = dlqKafka.create(dlqKafka.config.parse({ type: 'kafka' }), { ...ctx, topics });
  const ruleSet = loadRules([`${ROOT}rules`]);
  const detector = createDetector({ ruleSet, config: detectConfig(), matcher: createMatcher(ruleSet.rules) });
  const normalizer = createNormalizer();
  const parser = parserFor('threat-json').create();
  const stream = new PassThrough();
  let printed = '';
  stream.on('data', (c) => {
    printed += c;
  });
  const alertConsole = createConsoleAlertOutput({ stream });

  await source.start();
  let seen = 0;
  const deadline = Date.now() + 60_000;
  for await (const batch of source.batches()) {
    const envelopes: Envelope[] = [];
    const rejects: Reject[] = [];
    for (const record of batch.records) {
      seen++;
      const result = parser.parse(record);
      if (!result.ok) {
        rejects.push({
          reason: result.reason,
          ...(result.detail ? { detail: result.detail } : {}),
          format: 'threat-json',
          source: 'threat',
          position: record.position,
          receivedAt: record.receivedAt,
          text: record.text,
          byteLength: record.byteLength,
        });
        continue;
      }
      result.records.forEach((rec, i) => {
        envelopes.push(normalizer.normalize(rec, eventId(record.position, i), record.receivedAt));
      });
    }
    if (rejects.length > 0) await dlq.write(rejects);
    await alertConsole.write(detector.process(envelopes));
    await batch.ack();
    if (seen >= LINES.length || Date.now() > deadline) break;
  }
  await source.stop();
  await dlq.stop();

  assert.equal(seen, LINES.length);
  assert.deepEqual(printed.trim().split('\n'), [
    '[ALERT] Host: endpoint01 | Threat: malware.exe | Severity: HIGH',
    '[ALERT] Host: endpoint03 | Threat: exploit_attempt | Severity: CRITICAL',
    '[ALERT] Host: endpoint04 | Threat: brute_force_attempt | Severity: CRITICAL',
    '[ALERT] Host: endpoint06 | Threat: ransomware.exe | Severity: CRITICAL',
  ]);

  // The broken line is on the DLQ topic with its reason and original text.
  const sub = await bus.subscribe({
    group: unique('socstream-dlq-check'),
    topics: [dlqTopic],
    from: 'earliest',
    maxWaitMs: 500,
  });
  t.after(() => sub.close());
  const letters: Array<Record<string, unknown>> = [];
  const until = Date.now() + 30_000;
  for await (const b of sub) {
    for (const r of b.records) letters.push(JSON.parse(Buffer.from(r.value).toString('utf8')));
    if (letters.length >= 1 || Date.now() > until) break;
  }
  assert.equal(letters.length, 1);
  assert.equal(letters[0].reason, 'invalid_json');
  assert.match(JSON.stringify(letters[0]), /endpoint05/);
});
