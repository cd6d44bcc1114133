/**
 * The correlate role's latency on the real broker (127.0.0.1:9092), in isolation: a separate
 * producer publishes single-event matches (the rule pack's threat fixture, each one a new alert)
 * at a fixed rate to a fresh matches topic; the correlate role decides them and writes the alerts
 * to a fresh alerts topic. Prints p50/p99 of match published → decided and → alert published.
 * Not a bench module (no *.bench.ts): a tool for A/B runs of src/roles/correlate.ts.
 *   node bench/correlate-latency.ts [matches/s = 2000] [seconds = 10] [worktree = this one] [raw lines/s = 0]
 * With raw lines/s > 0 the run has the one-process deployment's shape: one bus publishes the
 * matches, runs the correlate role (its alerts) AND publishes a paced bulk load of raw lines
 * (400 B each, 1,000 per publish, at most 8 publishes in flight, as the ingest role does) to a
 * raw topic: how long matches and alerts wait behind the bulk produce requests
 * (docs/kafka.md "Two send lanes").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';

const [rateArg, secondsArg, wtArg, rawArg] = process.argv.slice(2);
const RAW_RATE = Number(rawArg ?? 0);
const wt = wtArg ?? new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const RATE = Number(rateArg ?? 2000);
const SECONDS = Number(secondsArg ?? 10);
const imp = (p: string) => import(`${wt}/src/${p}`);
const { KafkaBus } = await imp('bus/kafka.ts');
const { kafkaSchema, detectSchema } = await imp('config/schema.ts');
const { createCorrelationState, createEventMatcher } = await imp('detect/detector.ts');
const { loadRules } = await imp('detect/sigma/load.ts');
const { createMatcher } = await imp('detect/sigma/matcher.ts');
const { createNormalizer } = await imp('normalize/normalize.ts');
const { createEnvelopeReader } = await imp('pipeline/read-input.ts');
const { matchRecord } = await imp('roles/codec.ts');
const { createCorrelateRole } = await imp('roles/correlate.ts');
const { createTelemetry } = await imp('core/telemetry.ts');
const { createLogger } = await imp('core/logger.ts');

const ruleSet = loadRules([`${wt}/rules`]);
const options = { ruleSet, matcher: createMatcher(ruleSet.rules), config: detectSchema.parse({}) };
const line = readFileSync(`${wt}/rules/fixtures/threat_critical/positive.json`, 'utf8').split('\n')[2];
const envs = createEnvelopeReader({
  name: 't',
  format: 'threat-json',
  normalizer: createNormalizer(),
  receivedAt: Date.now(),
}).read([line]);
const template = createEventMatcher(options)
  .matchEvents(envs, 'raw.t:0', [], [0])
  .find((m: { type: string }) => m.type === 'event');
if (!template) throw new Error('no template match');

const cfg = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'corr-lat' });
const id = randomUUID().slice(0, 8);
const topic = `corrlat-${id}-matches`;
const alertsTopic = `corrlat-${id}-alerts`;
const rawTopic = `corrlat-${id}-raw`;
// The third argument (the latency topics) is ignored by a KafkaBus without send lanes.
const lanes = { latencyTopics: [topic, alertsTopic] };
const bus = new KafkaBus(cfg, {}, lanes);
const pubBus = RAW_RATE > 0 ? bus : new KafkaBus(cfg, {}, lanes);
await pubBus.createTopics([
  { name: topic, partitions: 6 },
  { name: alertsTopic, partitions: 6 },
  { name: rawTopic, partitions: 6 },
]);

const ingestOf = new Map<string, number>();
const decided: number[] = [];
const published: number[] = [];
const state = createCorrelationState(options);
const correlate = state.correlateMatches.bind(state);
state.correlateMatches = (messages: Array<{ ingest_time: number }>, partition: string) => {
  const out = correlate(messages, partition);
  const now = Date.now();
  for (const a of out.alerts) {
    const t = ingestOf.get(a.event_ids[0]);
    if (t !== undefined) decided.push(now - t);
  }
  return out;
};
const silent = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });
const role = createCorrelateRole({
  bus,
  group: `corrlat-${id}`,
  topic,
  state,
  origins: ['raw.t:0'],
  output: {
    name: 'kafka',
    write: async (alerts: Array<{ id: string; event_ids: string[] }>) => {
      await bus.publish(
        alertsTopic,
        alerts.map((a) => ({ key: a.id, value: Buffer.from(JSON.stringify(a)) })),
      );
      const now = Date.now();
      for (const a of alerts) {
        const t = ingestOf.get(a.event_ids[0]);
        if (t !== undefined) published.push(now - t);
      }
    },
    stop: async () => {},
  },
  ctx: { logger: silent, telemetry: createTelemetry({ defaultMetrics: false }) },
});
const run = role.run();
await role.ready;
await new Promise((r) => setTimeout(r, 3000)); // group settled

let n = 0;
const total = RATE * SECONDS;
const t0 = Date.now();
let rawSent = 0;
let rawInFlight = 0;
// Random lines (lz4 finds no repeat within its 64 KiB window): the bytes on the wire are real.
const rawLines = Array.from({ length: 1000 }, () => Buffer.from(randomBytes(200).toString('hex')));
/** The paced bulk load: what is due, 1,000 lines per publish, at most 8 publishes in flight. */
function publishRaw(): void {
  const due = Math.floor(((Date.now() - t0) * RAW_RATE) / 1000);
  while (rawInFlight < 8 && due - rawSent >= 1000) {
    const records = Array.from({ length: 1000 }, (_, i) => ({
      key: `s${(rawSent + i) % 3}`,
      value: rawLines[i],
    }));
    rawSent += 1000;
    rawInFlight++;
    void bus.publish(rawTopic, records).finally(() => rawInFlight--);
  }
}
while (n < total) {
  if (RAW_RATE > 0) publishRaw();
  const due = Math.min(total, Math.floor(((Date.now() - t0) * RATE) / 1000));
  const batch = [];
  for (; n < due; n++) {
    const now = Date.now();
    const eventId = `ev-${n}`;
    ingestOf.set(eventId, now);
    batch.push(
      matchRecord({
        ...template,
        event_id: eventId,
        event_time: now,
        clock: now,
        ingest_time: now,
        seq: n * 1024,
        group: { ...template.group, host: `h${n}` },
      }),
    );
  }
  if (batch.length) void pubBus.publish(topic, batch);
  await new Promise((r) => setTimeout(r, 10));
}
const deadline = Date.now() + 60_000;
while (published.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await role.stop();
await run.catch(() => {});
await bus.deleteTopics([topic, alertsTopic, rawTopic]).catch(() => {});
await bus.close();
if (pubBus !== bus) await pubBus.close();
const q = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : Number.NaN;
};
console.log(
  JSON.stringify({
    wt,
    rate: RATE,
    raw_rate: RAW_RATE,
    raw_sent: rawSent,
    alerts: published.length,
    decided_p50: q(decided, 0.5),
    decided_p99: q(decided, 0.99),
    published_p50: q(published, 0.5),
    published_p99: q(published, 0.99),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }),
);
process.exit(0);
