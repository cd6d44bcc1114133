/**
 * Kafka ceilings and the seeds' baseline, on the local broker (127.0.0.1:9092, `npm run kafka:start`):
 * - Kafka's own ProducerPerformance and ConsumerPerformance (`npm run kafka -- producer-perf|consumer-perf`),
 *   on generator lines (mixed scenario, JSON formats) as payloads: what the broker and the Java
 *   client do on this machine, the ceiling any pipeline on it works under;
 * - the threat-analyzer seed's consumer, in Node: kafkajs, one message at a time, JSON.parse and an
 *   if/else on severity (plus the SOC seed's conn-state/outcome checks) — the baseline socstream is
 *   compared with.
 * Without a broker every row is skipped with a note. Run alone: `node bench/kafka.bench.ts`.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createGenerator } from '../src/generate/generator.ts';
import type { BenchRow } from './types.ts';

const BROKER = '127.0.0.1:9092';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const RECORDS = QUICK ? 100_000 : 500_000;
const PARTITIONS = 6;
const KAFKA_SCRIPT = new URL('../scripts/kafka.ts', import.meta.url).pathname;

function brokerUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const [host, port] = BROKER.split(':');
    const s = connect({ host, port: Number(port) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function skipped(note: string): BenchRow[] {
  return [
    { bench: 'kafka', metric: 'ProducerPerformance records/s', value: Number.NaN, unit: 'records/s', note },
    { bench: 'kafka', metric: 'ConsumerPerformance records/s', value: Number.NaN, unit: 'records/s', note },
    {
      bench: 'baseline',
      metric: 'kafkajs per-message JSON.parse + if/else',
      value: Number.NaN,
      unit: 'records/s',
      note,
    },
  ];
}

/** 2,000 distinct JSON lines from the generator (Zeek JSON, EVE, auth/app/threat JSON). */
function payloadFile(): { path: string; avgBytes: number } {
  const g = createGenerator({ scenario: 'mixed', seed: 1, startMs: Date.parse('2026-01-31T10:00:00Z') });
  const lines: string[] = [];
  while (lines.length < 2000) {
    const it = g.nextItem();
    if (it.line.startsWith('{')) lines.push(it.line);
  }
  const path = join(tmpdir(), `socstream-bench-payload-${process.pid}.txt`);
  writeFileSync(path, lines.join('\n'));
  return { path, avgBytes: lines.reduce((n, l) => n + l.length, 0) / lines.length };
}

function kafkaTool(args: string[]): string {
  const r = spawnSync(process.execPath, [KAFKA_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`kafka ${args[0]} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** `500000 records sent, 251762.3 records/sec (96.53 MB/sec), 93.10 ms avg latency, … 99th …` */
export function parseProducerPerf(out: string) {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency(?:, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th)?/.exec(
      out.slice(out.lastIndexOf('records sent') - 20),
    );
  if (!m) throw new Error(`unrecognized ProducerPerformance output: ${out.slice(-500)}`);
  return {
    records: Number(m[1]),
    perSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    p99Ms: m[8] ? Number(m[8]) : Number.NaN,
  };
}

/** A CSV-ish header line and a values line: `start.time, end.time, data.consumed.in.MB, MB.sec, …`. */
export function parseConsumerPerf(out: string): Record<string, string> {
  const lines = out.split('\n').map((l) => l.trim());
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  if (h < 0 || !lines[h + 1]) throw new Error(`unrecognized ConsumerPerformance output: ${out.slice(-500)}`);
  const keys = lines[h].split(',').map((s) => s.trim());
  const values = lines[h + 1].split(',').map((s) => s.trim());
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

/** The seeds' analyzer: per-message callback, JSON.parse, if/else rules. */
async function baseline(
  topic: string,
  expected: number,
): Promise<{ perSec: number; alerts: number; malformed: number }> {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-baseline-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let alerts = 0;
  let malformed = 0;
  let first = 0;
  const result = await new Promise<{ perSec: number; alerts: number; malformed: number }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`baseline consumed ${seen}/${expected} in 180 s`)),
        180_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (seen === 0) first = performance.now();
            seen++;
            try {
              const data = JSON.parse(message.value!.toString('utf8'));
              const severity = String(data.severity ?? '').toLowerCase();
              if (severity === 'high' || severity === 'critical') alerts++;
              else if (data.event_type === 'alert') alerts++;
              else if (data.conn_state === 'REJ' || data.conn_state === 'S0') alerts++;
              else if (data.outcome === 'failure' || data.event === 'login_failed') alerts++;
            } catch {
              malformed++;
            }
            if (seen === expected) {
              clearTimeout(timer);
              const seconds = (performance.now() - first) / 1000;
              resolve({ perSec: expected / seconds, alerts, malformed });
            }
          },
        })
        .catch(reject);
    },
  );
  await consumer.disconnect();
  return result;
}

function producerPerf(topic: string, payload: string, compression: string) {
  return parseProducerPerf(
    kafkaTool([
      'producer-perf',
      '--topic',
      topic,
      '--num-records',
      String(RECORDS),
      '--payload-file',
      payload,
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${BROKER}`,
      'acks=1',
      'linger.ms=5',
      'batch.size=262144',
      `compression.type=${compression}`,
    ]),
  );
}

/** Runs one measurement; a failure becomes a skipped row with the error, the others still run. */
async function attempt(rows: BenchRow[], fallback: Omit<BenchRow, 'value'>, fn: () => Promise<BenchRow[]>) {
  try {
    rows.push(...(await fn()));
  } catch (err) {
    rows.push({ ...fallback, value: Number.NaN, note: `failed: ${(err as Error).message.slice(0, 200)}` });
  }
}

export async function run(): Promise<BenchRow[]> {
  if (!(await brokerUp())) return skipped(`skipped: no broker on ${BROKER} (npm run kafka:start)`);
  const id = randomUUID().slice(0, 8);
  // lz4 (socstream's default) for the ceilings; uncompressed for the baseline, because kafkajs
  // has no lz4 codec built in (and the seeds' producers send uncompressed).
  const lz4Topic = `bench-kafka-lz4-${id}`;
  const plainTopic = `bench-kafka-plain-${id}`;
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [lz4Topic, plainTopic].map((topic) => ({
      topic,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
    })),
    waitForLeaders: true,
  });
  const payload = payloadFile();
  const rows: BenchRow[] = [];
  const records = RECORDS.toLocaleString('en-US');
  const setup = `${records} records of ~${Math.round(payload.avgBytes)} B (generator JSON lines), ${PARTITIONS} partitions, acks=1`;
  try {
    await attempt(
      rows,
      { bench: 'kafka', metric: 'ProducerPerformance records/s (lz4)', unit: 'records/s' },
      async () => {
        const prod = producerPerf(lz4Topic, payload.path, 'lz4');
        return [
          {
            bench: 'kafka',
            metric: 'ProducerPerformance records/s (lz4)',
            value: prod.perSec,
            unit: 'records/s',
            note: setup,
          },
          { bench: 'kafka', metric: 'ProducerPerformance MB/s (lz4)', value: prod.mbPerSec, unit: 'MB/s' },
          {
            bench: 'kafka',
            metric: 'ProducerPerformance latency p99 (lz4)',
            value: prod.p99Ms,
            unit: 'ms',
            note: 'unthrottled, so mostly queueing',
          },
        ];
      },
    );
    await attempt(
      rows,
      { bench: 'kafka', metric: 'ConsumerPerformance records/s (lz4)', unit: 'records/s' },
      async () => {
        const cons = parseConsumerPerf(
          kafkaTool([
            'consumer-perf',
            '--bootstrap-server',
            BROKER,
            '--topic',
            lz4Topic,
            '--messages',
            String(RECORDS),
            '--timeout',
            '60000',
          ]),
        );
        return [
          {
            bench: 'kafka',
            metric: 'ConsumerPerformance records/s (lz4)',
            value: Number(cons['fetch.nMsg.sec'] ?? cons['nMsg.sec']),
            unit: 'records/s',
            note: `fetch.nMsg.sec (excl. group join); incl. join ${Math.round(Number(cons['nMsg.sec'])).toLocaleString('en-US')}/s`,
          },
          {
            bench: 'kafka',
            metric: 'ConsumerPerformance MB/s (lz4)',
            value: Number(cons['fetch.MB.sec'] ?? cons['MB.sec']),
            unit: 'MB/s',
          },
        ];
      },
    );
    await attempt(
      rows,
      { bench: 'baseline', metric: 'kafkajs per-message JSON.parse + if/else', unit: 'records/s' },
      async () => {
        const prod = producerPerf(plainTopic, payload.path, 'none');
        const base = await baseline(plainTopic, RECORDS);
        return [
          {
            bench: 'kafka',
            metric: 'ProducerPerformance records/s (uncompressed)',
            value: prod.perSec,
            unit: 'records/s',
          },
          {
            bench: 'baseline',
            metric: 'kafkajs per-message JSON.parse + if/else',
            value: base.perSec,
            unit: 'records/s',
            note: `the seeds' analyzer shape, one consumer, ${records} records; ${base.alerts.toLocaleString('en-US')} rule hits, ${base.malformed} malformed`,
          },
        ];
      },
    );
  } finally {
    await admin.deleteTopics({ topics: [lz4Topic, plainTopic] }).catch(() => {});
    await admin.disconnect();
    rmSync(payload.path, { force: true });
  }
  return rows;
}

if (import.meta.main) console.table(await run());
