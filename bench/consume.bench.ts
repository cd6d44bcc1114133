/**
 * The Kafka client's consume path alone, side by side (issue 20, "the client"): one topic of
 * 200,000 threat events in seed 001's shape (6 partitions, uncompressed), read to the end by a bare
 * consumer doing the seed analyzer's work per record (JSON.parse + a severity test), each variant
 * in a fresh process timed from launch (module loading included), rounds alternating:
 * - `kafkajs`: kafkajs 2.2.4, `eachBatch`, one commit per batch (resolveOffset);
 * - `platformatic`: @platformatic/kafka 2.12.1's own consumer stream (`consume()`, autocommit off,
 *   the same fetch sizes as socstream's bus: 1 MiB, 128 KiB per partition), records read from the stream;
 * - `platformatic fetch`: the same client's lower-level `consumer.fetch()` (no group, no stream):
 *   Fetch requests for every partition from its next offset, the decoded record batches read
 *   directly: what the client costs without its stream's per-record layer (`#pushRecords`), the
 *   upper bound of consuming through the fetch API;
 * - `socstream bus`: the same client through socstream's KafkaBus.subscribe (ownership fencing,
 *   batches, a commit per batch): what the process role consumes through.
 * Rows: records/s from launch (best of the rounds), CPU µs per record (from launch, and once
 * subscribed: module loading and the join excluded), peak RSS, and the ratios.
 * `node bench/consume.bench.ts` runs it alone; a child runs `--consume-variant <name> <topic> <n>`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './types.ts';

const BROKER = '127.0.0.1:9092';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const EVENTS = QUICK ? 50_000 : 200_000;
const PARTITIONS = 6;
const ROUNDS = Number(process.env.SOCSTREAM_BENCH_CONSUME_ROUNDS ?? 2);
const VARIANTS = ['kafkajs', 'platformatic', 'platformatic fetch', 'socstream bus'] as const;
type Variant = (typeof VARIANTS)[number];
const THIS_FILE = fileURLToPath(import.meta.url);
/** CPU seconds when the variant's modules were loaded and its client made (launch excluded). */
let cpuAtStart = 0;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const started = () => {
  cpuAtStart = cpuSeconds();
};

function brokerUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 9092 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The seed analyzer's per-record work: parse, read three fields, test the severity. */
function analyze(value: Uint8Array | Buffer | null | undefined, counts: { alerts: number }): void {
  if (!value) return;
  const data = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  const severity = String(data.severity ?? 'Unknown').toLowerCase();
  if (severity === 'high' || severity === 'critical') counts.alerts++;
}

export async function fill(topic: string): Promise<void> {
  const { KafkaBus } = await import('../src/bus/kafka.ts');
  const { kafkaSchema } = await import('../src/config/schema.ts');
  const { threatJsonLine } = await import('../src/generate/threat-json.ts');
  const bus = new KafkaBus(
    kafkaSchema.parse({ brokers: [BROKER], client_id: 'bench-consume', compression: 'none' }),
  );
  try {
    await bus.createTopics([{ name: topic, partitions: PARTITIONS }]);
    const start = Date.parse('2026-01-31T10:00:00Z');
    const severities = ['low', 'medium', 'high', 'critical'] as const;
    for (let i = 0; i < EVENTS; ) {
      const records = [];
      for (const end = Math.min(EVENTS, i + 5000); i < end; i++) {
        const item = threatJsonLine(
          start + i * 10,
          `endpoint${(i * 7919) % 500}`,
          'exploit_attempt',
          severities[(i * 31) % 4],
        );
        records.push({ key: item.key ?? null, value: Buffer.from(item.line) });
      }
      await bus.publish(topic, records);
    }
  } finally {
    await bus.close();
  }
}

async function consumeKafkajs(topic: string, n: number): Promise<number> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: 'bench-consume', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-consume-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  started();
  const counts = { alerts: 0 };
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: true,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const m of batch.messages) {
            analyze(m.value, counts);
            seen++;
            resolveOffset(m.offset);
          }
          if (seen >= n) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return counts.alerts;
}

async function consumePlatformatic(topic: string, n: number): Promise<number> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer = new Consumer({
    clientId: 'bench-consume',
    bootstrapBrokers: [BROKER],
    groupId: `bench-consume-${randomUUID()}`,
    autocommit: false,
    maxWaitTime: 500,
    // socstream's defaults (bus.kafka.fetch_max_bytes, fetch_max_partition_bytes): like for like with the bus
    maxBytes: 1024 * 1024,
    maxBytesPerPartition: 128 * 1024,
  });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  started();
  const counts = { alerts: 0 };
  let seen = 0;
  for await (const message of stream) {
    analyze(message.value as Buffer, counts);
    if (++seen >= n) break;
  }
  await stream.close();
  await consumer.close(true);
  return counts.alerts;
}

async function consumeFetch(topic: string, n: number): Promise<number> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer = new Consumer({
    clientId: 'bench-consume',
    bootstrapBrokers: [BROKER],
    groupId: `bench-consume-${randomUUID()}`,
    maxWaitTime: 500,
  });
  const metadata = await consumer.metadata({ topics: [topic] });
  const info = metadata.topics.get(topic);
  if (!info) throw new Error(`no metadata for ${topic}`);
  started();
  const next = Array.from({ length: info.partitionsCount }, () => 0n);
  const byLeader = new Map<number, number[]>();
  for (const [i, p] of info.partitions.entries())
    byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), i]);
  const counts = { alerts: 0 };
  let seen = 0;
  while (seen < n) {
    for (const [node, partitions] of byLeader) {
      const response = await consumer.fetch({
        node,
        maxBytes: 1024 * 1024,
        topics: [
          {
            topicId: info.id,
            partitions: partitions.map((partition) => ({
              partition,
              fetchOffset: next[partition],
              partitionMaxBytes: 128 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            })),
          },
        ],
      });
      for (const t of response.responses)
        for (const p of t.partitions)
          for (const batch of p.records ?? []) {
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta);
              if (offset < next[p.partitionIndex]) continue;
              analyze(record.value, counts);
              seen++;
            }
            next[p.partitionIndex] = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          }
    }
  }
  await consumer.close(true);
  return counts.alerts;
}

async function consumeBus(topic: string, n: number): Promise<number> {
  const { KafkaBus } = await import('../src/bus/kafka.ts');
  const { kafkaSchema } = await import('../src/config/schema.ts');
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: [BROKER], client_id: 'bench-consume' }));
  const sub = await bus.subscribe({
    group: `bench-consume-${randomUUID()}`,
    topics: [topic],
    from: 'earliest',
  });
  started();
  const counts = { alerts: 0 };
  let seen = 0;
  for await (const batch of sub) {
    for (const r of batch.records) analyze(r.value, counts);
    seen += batch.records.length;
    await sub.commit(batch);
    if (seen >= n) break;
  }
  await sub.close();
  await bus.close();
  return counts.alerts;
}

interface Run {
  seconds: number;
  cpuUsPerRecord: number;
  /** CPU from the subscription made to the last record (module loading and joins excluded). */
  loopUsPerRecord: number;
  rssMb: number;
}

function runVariant(variant: Variant, topic: string): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [THIS_FILE, '--consume-variant', variant, topic, String(EVENTS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const m = /done (\S+) (\S+) (\S+)/.exec(out);
      if (code !== 0 || !m) return reject(new Error(`${variant} exited ${code}: ${err}`));
      resolve({
        seconds,
        cpuUsPerRecord: (Number(m[1]) * 1e6) / EVENTS,
        rssMb: Number(m[2]),
        loopUsPerRecord: (Number(m[3]) * 1e6) / EVENTS,
      });
    });
  });
}

export async function run(): Promise<BenchRow[]> {
  if (!(await brokerUp()))
    return [
      {
        bench: 'consume',
        metric: 'bare consumers',
        value: Number.NaN,
        unit: '',
        note: `no broker on ${BROKER}`,
      },
    ];
  const topic = `bench-consume-${randomUUID().slice(0, 8)}`;
  await fill(topic);
  const runs = new Map<Variant, Run[]>(VARIANTS.map((v) => [v, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Each round in another order: no variant always runs first.
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) runs.get(v)?.push(await runVariant(v, topic));
    }
  } finally {
    const { KafkaBus } = await import('../src/bus/kafka.ts');
    const { kafkaSchema } = await import('../src/config/schema.ts');
    const bus = new KafkaBus(kafkaSchema.parse({ brokers: [BROKER], client_id: 'bench-consume' }));
    await bus.deleteTopics([topic]).catch(() => {});
    await bus.close();
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const best = (v: Variant) => (runs.get(v) ?? []).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rows: BenchRow[] = [];
  for (const v of VARIANTS) {
    const b = best(v);
    const all = runs.get(v) ?? [];
    rows.push({
      bench: 'consume',
      metric: `${v}: bare consumer + JSON.parse + severity test, from launch`,
      value: EVENTS / b.seconds,
      unit: 'records/s',
      note: `${EVENTS} records; runs ${all.map((r) => `${r.seconds.toFixed(1)} s/${r.cpuUsPerRecord.toFixed(1)} µs/${r.loopUsPerRecord.toFixed(1)} µs/${r.rssMb.toFixed(0)} MB`).join(', ')} (time/CPU per record from launch/CPU per record once subscribed/peak RSS); load ${load}`,
    });
  }
  rows.push({
    bench: 'consume',
    metric: 'socstream bus / kafkajs (CPU per record, best runs)',
    value: best('socstream bus').cpuUsPerRecord / best('kafkajs').cpuUsPerRecord,
    unit: '×',
  });
  const lowestLoop = (v: Variant) => Math.min(...(runs.get(v) ?? []).map((r) => r.loopUsPerRecord));
  for (const v of VARIANTS)
    rows.push({
      bench: 'consume',
      metric: `${v}: CPU per record once subscribed (launch and join excluded), lowest`,
      value: lowestLoop(v),
      unit: 'µs',
    });
  return rows;
}

if (process.argv[2] === '--consume-variant') {
  const [, , , variant, topic, n] = process.argv;
  const consume = {
    kafkajs: consumeKafkajs,
    platformatic: consumePlatformatic,
    'platformatic fetch': consumeFetch,
    'socstream bus': consumeBus,
  }[variant as Variant];
  await consume(topic, Number(n));
  const cpu = cpuSeconds();
  process.stdout.write(`done ${cpu} ${process.resourceUsage().maxRSS / 1024} ${cpu - cpuAtStart}\n`);
  process.exit(0);
} else if (import.meta.main) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
