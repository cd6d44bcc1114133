/**
 * The comparison the issue "One pass on Kafka" asks for, on the local broker (127.0.0.1:9092):
 * the same topic of threat events in seed 001's shape (`{"host", "threat", "severity"}` plus a
 * timestamp), read
 * - by seed 001's own analyzer (seeds/001: kafka-python, its code unchanged plus a stop after N
 *   messages, its prints sent to /dev/null), Debian's python3-kafka;
 * - by `socstream run --role process,correlate,store` doing the whole job: consume, parse,
 *   normalize, enrich, detect (the bundled rules), alert (alert store and alerts topic) and a
 *   durable Parquet lake — done when the process group has committed every offset, which it does
 *   only after the lake flush.
 * Both are timed from launch to done, twice, alternating (A/B pairs on one machine). The rows:
 * each one's events/s (best of the pairs), the ratio, socstream's CPU per event and peak RSS.
 * Without a broker or without python3-kafka the seed rows are skipped with a note.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { build } from '../scripts/build.ts';
import { KafkaBus } from '../src/bus/kafka.ts';
import { kafkaSchema } from '../src/config/schema.ts';
import type { BusRecord } from '../src/core/bus.ts';
import { threatJsonLine } from '../src/generate/threat-json.ts';
import type { BenchRow } from './types.ts';

const BROKER = '127.0.0.1:9092';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const EVENTS = QUICK ? 50_000 : 200_000;
const PARTITIONS = 6;
const ROUNDS = Number(process.env.SOCSTREAM_BENCH_SEED_ROUNDS ?? 2);
/** The checkout's launcher (bin/socstream.js: sources or the build, MALLOC_ARENA_MAX). */
const CHECKOUT_MAIN = new URL('../bin/socstream.js', import.meta.url).pathname;
/**
 * What a deployment runs is the build (deploy/Dockerfile: `npm run build`, then bin/socstream.js
 * runs dist/): the bench builds this checkout into a copy under its temporary folder and runs that
 * (module loading from compiled JS, not type stripping at launch: ~1.5 s and ~1 s of CPU less per
 * run here). SOCSTREAM_BENCH_SEED_SOURCES=1 runs the sources instead. A base checkout
 * (SOCSTREAM_BENCH_SEED_BASE) runs as it is: build it first (`npm run build` there) to compare like
 * with like.
 */
const FROM_SOURCES = process.env.SOCSTREAM_BENCH_SEED_SOURCES === '1';
let MAIN = CHECKOUT_MAIN;
/**
 * SOCSTREAM_BENCH_SEED_BASE=<checkout>: also run that checkout's `socstream run` (e.g. a worktree
 * of main) in every round, alternating with this one on the same topic: a paired A/B of the whole
 * job, reported as a ratio.
 */
const BASE_CHECKOUT = process.env.SOCSTREAM_BENCH_SEED_BASE;
/**
 * SOCSTREAM_BENCH_SEED_WORKERS=1: this checkout's runs set `process.workers` (the process role's
 * worker thread, docs/kafka.md); the base checkout's config is left as it was (an older schema
 * rejects the key).
 */
const WORKERS = process.env.SOCSTREAM_BENCH_SEED_WORKERS;
const RULES = new URL('../rules', import.meta.url).pathname;
/** V8 heap flags the Docker image (a Kafka deployment) starts socstream with. */
const KAFKA_NODE_FLAGS = '--max-semi-space-size=16 --heap-growing-percent=100';
const HOSTS = 500;
const THREATS = [
  'unknown_process',
  'exploit_attempt',
  'malware.exe',
  'credential_dumping',
  'brute_force_attempt',
];
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** Seed 001's threat_analyzer.py, as printed in seeds/001, with the topic, group and a stop after N. */
const SEED_ANALYZER = `
import sys
from kafka import KafkaConsumer
import json

topic, group, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])

# Kafka consumer initialization
consumer = KafkaConsumer(
    topic,
    bootstrap_servers='${BROKER}',
    auto_offset_reset='earliest',
    enable_auto_commit=True,
    group_id=group,
    value_deserializer=lambda m: m.decode('utf-8')
)

print("[+] Listening for threat logs...\\n")

seen = 0
for message in consumer:
    try:
        data = json.loads(message.value)

        host = data.get("host", "Unknown")
        threat = data.get("threat", "Unknown")
        severity = data.get("severity", "Unknown").lower()

        if severity == "high":
            print(f"[ALERT] Host: {host} | Threat: {threat} | Severity: HIGH")
        elif severity == "critical":
            print(f"[ALERT] Host: {host} | Threat: {threat} | Severity: CRITICAL")
        else:
            print(f"[DEBUG] Host: {host} | Threat: {threat} | Severity: {severity}")

    except json.JSONDecodeError:
        print(f"[ERROR] Received malformed JSON: {message.value}")
    seen += 1
    if seen >= limit:
        break
consumer.close()
`;

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

function python(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import kafka'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

/** Seed-shaped threat events, keyed by host; a fixed start time, one event per 10 ms. */
async function fillTopic(bus: KafkaBus, topic: string): Promise<void> {
  await bus.createTopics([{ name: topic, partitions: PARTITIONS }]);
  const encoder = new TextEncoder();
  const start = Date.parse('2026-01-31T10:00:00Z');
  for (let i = 0; i < EVENTS; ) {
    const records: BusRecord[] = [];
    for (const end = Math.min(EVENTS, i + 5000); i < end; i++) {
      const item = threatJsonLine(
        start + i * 10,
        `endpoint${String((i * 7919) % HOSTS).padStart(3, '0')}`,
        THREATS[i % THREATS.length],
        SEVERITIES[(i * 31) % SEVERITIES.length],
      );
      records.push({ key: item.key ?? null, value: encoder.encode(item.line) });
    }
    await bus.publish(topic, records);
  }
}

function runSeed(py: string, script: string, topic: string): number {
  const t0 = performance.now();
  const r = spawnSync(py, [script, topic, `seed-${randomUUID()}`, String(EVENTS)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`seed analyzer exited ${r.status}: ${String(r.stderr).slice(-1000)}`);
  return (performance.now() - t0) / 1000;
}

interface SocstreamRun {
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Records on the alerts topic once done (alerts raised once, updates coalesced). */
  alertRecords: number;
}

/** `/proc/<pid>`: CPU seconds (user + system) and peak RSS (VmHWM) of a running child. */
function procFigures(pid: number): { cpu: number; hwmMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: ticks / 100, hwmMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN };
}

async function runSocstream(bus: KafkaBus, topic: string, dir: string, main = MAIN): Promise<SocstreamRun> {
  const prefix = `bench-seed-${randomUUID().slice(0, 8)}`;
  const config = {
    data_dir: dir,
    log_level: 'warn',
    bus: { type: 'kafka', group_prefix: prefix, kafka: { brokers: [BROKER] } },
    topics: {
      raw_prefix: `${prefix}.raw.`,
      network: `${prefix}.events.network`,
      auth: `${prefix}.events.auth`,
      web: `${prefix}.events.web`,
      other: `${prefix}.events.other`,
      matches: `${prefix}.matches`,
      alerts: `${prefix}.alerts`,
      dlq: `${prefix}.dlq`,
      partitions: PARTITIONS,
    },
    sources: [{ type: 'kafka', topics: [topic], format: 'threat-json' }],
    detect: { rules: [RULES] },
    alerts: { kafka: true },
    // SOCSTREAM_BENCH_SEED_LAKE='{"key": value}': more lake settings for both checkouts (A/B of a lake knob).
    lake: {
      dir: join(dir, `lake-${prefix}`),
      flush_interval_seconds: 2,
      ...JSON.parse(process.env.SOCSTREAM_BENCH_SEED_LAKE ?? '{}'),
    },
    alert_store: { type: 'sqlite', sqlite_path: join(dir, `${prefix}.db`) },
    dlq: { type: 'file', path: join(dir, `${prefix}.dlq.ndjson`) },
    ...(WORKERS !== undefined && main !== baseMainOf() ? { process: { workers: Number(WORKERS) } } : {}),
  };
  const configPath = join(dir, `${prefix}.yaml`);
  writeFileSync(configPath, stringify(config));
  const group = `${prefix}-process`;
  const t0 = performance.now();
  // SOCSTREAM_BENCH_CPU_PROFILE=DIR: a V8 CPU profile of each socstream run (scripts/cpuprofile-top.ts).
  const profile = process.env.SOCSTREAM_BENCH_CPU_PROFILE;
  const nodeFlags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  // The V8 flags of a Kafka deployment (deploy/Dockerfile, docs/deploy.md "Memory");
  // SOCSTREAM_BENCH_NODE_FLAGS="--flag=value …" replaces them ("" for none): A/B of V8 settings.
  nodeFlags.push(
    ...(process.env.SOCSTREAM_BENCH_NODE_FLAGS ?? KAFKA_NODE_FLAGS).split(/\s+/).filter(Boolean),
  );
  const args = [...nodeFlags, main, 'run', '--config', configPath, '--role', 'process,correlate,store'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // SOCSTREAM_* variables are config overrides (the loader applies them): not ours to pass on.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCSTREAM_'))),
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  let figures = { cpu: 0, hwmMb: 0 };
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      if (exited) throw new Error(`socstream run exited early: ${stderr}`);
      if (Date.now() > deadline) throw new Error('socstream did not commit every offset in 600 s');
      const done = (await bus.committedOffsets(group, [topic])).reduce((n, o) => n + Number(o.offset), 0);
      if (done >= EVENTS) break;
      figures = procFigures(child.pid as number);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    figures = procFigures(child.pid as number);
    const alerts = await bus.endOffsets([config.topics.alerts]);
    const alertRecords = alerts.reduce((n, o) => n + Number(o.offset), 0);
    return { seconds, cpuSeconds: figures.cpu, peakRssMb: figures.hwmMb, alertRecords };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (exited ? r(undefined) : child.once('exit', r)));
  }
}

/** The base checkout's launcher, when SOCSTREAM_BENCH_SEED_BASE names one. */
function baseMainOf(): string | undefined {
  return BASE_CHECKOUT ? join(BASE_CHECKOUT, 'bin/socstream.js') : undefined;
}

/**
 * This checkout built into `<dir>/root` (bin/, package.json, dist/, node_modules linked): the
 * launcher there runs dist/ as a deployment does, and the checkout's own dist/ is left alone.
 */
async function builtCopy(dir: string): Promise<string> {
  const root = join(dir, 'root');
  const checkout = new URL('../', import.meta.url).pathname;
  mkdirSync(root, { recursive: true });
  cpSync(join(checkout, 'bin'), join(root, 'bin'), { recursive: true });
  copyFileSync(join(checkout, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(checkout, 'node_modules'), join(root, 'node_modules'));
  await build(join(root, 'dist'));
  return join(root, 'bin/socstream.js');
}

function skipped(note: string): BenchRow[] {
  return [{ bench: 'seed', metric: 'socstream run / seed 001 analyzer', value: Number.NaN, unit: '×', note }];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<BenchRow[]> {
  if (!(await brokerUp())) return skipped(`no broker on ${BROKER} (npm run kafka:start)`);
  const py = python();
  const dir = mkdtempSync(join(tmpdir(), 'socstream-bench-seed-'));
  const bus = new KafkaBus(
    kafkaSchema.parse({ brokers: [BROKER], client_id: 'bench-seed', compression: 'none' }),
  );
  const topic = `bench-seed-threats-${randomUUID().slice(0, 8)}`;
  try {
    await fillTopic(bus, topic);
    if (!FROM_SOURCES) MAIN = await builtCopy(dir);
    const script = join(dir, 'threat_analyzer.py');
    writeFileSync(script, SEED_ANALYZER);
    const seed: number[] = [];
    const ours: SocstreamRun[] = [];
    const base: SocstreamRun[] = [];
    const baseMain = baseMainOf();
    for (let round = 0; round < ROUNDS; round++) {
      if (py) seed.push(runSeed(py, script, topic));
      // The pair's order alternates from round to round: neither side always runs first.
      if (baseMain && round % 2 === 0) base.push(await runSocstream(bus, topic, dir, baseMain));
      ours.push(await runSocstream(bus, topic, dir));
      if (baseMain && round % 2 === 1) base.push(await runSocstream(bus, topic, dir, baseMain));
    }
    const best = ours.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const ourRate = EVENTS / best.seconds;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const rows: BenchRow[] = [
      {
        bench: 'seed',
        metric: 'socstream run, the whole job (threat events → lake + alerts), from launch',
        value: ourRate,
        unit: 'events/s',
        note: `${EVENTS} events, ${PARTITIONS} partitions; runs ${ours.map((o) => o.seconds.toFixed(1)).join(', ')} s (best shown), process+correlate+store in one process, ${FROM_SOURCES ? 'from the TypeScript sources' : 'the build (dist/, as deploy/Dockerfile)'}; load ${load}`,
      },
      {
        bench: 'seed',
        metric: 'socstream run: CPU per event',
        value: (best.cpuSeconds * 1e6) / EVENTS,
        unit: 'µs',
        target: { op: '<=', value: 30 },
        note: 'user + system CPU of the socstream process, launch included',
      },
      {
        bench: 'seed',
        metric: 'socstream run: records on the alerts topic',
        value: best.alertRecords,
        unit: 'records',
        note: `for ${EVENTS} threat events when the process group committed the last offset (alerts raised once, updates coalesced per alerts.update_interval_seconds)`,
      },
      {
        bench: 'seed',
        metric: 'socstream run: peak RSS',
        value: median(ours.map((o) => o.peakRssMb)),
        unit: 'MB',
        target: { op: '<=', value: 400 },
        note: `VmHWM of the one-process Kafka deployment (process+correlate+store), node ${process.env.SOCSTREAM_BENCH_NODE_FLAGS ?? KAFKA_NODE_FLAGS}`,
      },
    ];
    if (base.length > 0) {
      const figures = (runs: SocstreamRun[]) =>
        runs
          .map(
            (o) =>
              `${o.seconds.toFixed(1)} s/${((o.cpuSeconds * 1e6) / EVENTS).toFixed(1)} µs/${o.peakRssMb.toFixed(0)} MB`,
          )
          .join(', ');
      const baseBest = base.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      rows.push({
        bench: 'seed',
        metric: 'socstream run / the base checkout, same rounds',
        value: baseBest.seconds / best.seconds,
        unit: '×',
        note: `${BASE_CHECKOUT}: runs ${figures(base)}; this checkout: ${figures(ours)} (time/CPU per event/peak RSS)`,
      });
    }
    if (py) {
      const seedBest = Math.min(...seed);
      rows.push(
        {
          bench: 'seed',
          metric: "seed 001's analyzer (kafka-python), from launch",
          value: EVENTS / seedBest,
          unit: 'events/s',
          note: `its code plus a stop after ${EVENTS}; runs ${seed.map((s) => s.toFixed(1)).join(', ')} s`,
        },
        {
          bench: 'seed',
          metric: 'socstream run / seed 001 analyzer',
          value: ourRate / (EVENTS / seedBest),
          unit: '×',
          target: { op: '>=', value: 1 },
          note: 'same topic, same broker, alternating runs',
        },
      );
    } else {
      rows.push(...skipped('python3-kafka is not installed (apt-get install python3-kafka)'));
    }
    return rows;
  } finally {
    await bus.deleteTopics([topic]).catch(() => {});
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
