/**
 * End to end on the real broker (127.0.0.1:9092; every row skipped with a note without one):
 * generator → raw topic → socstream (startRuntime on the kafka bus) → lake + alerts (one pass: the process role writes the lake).
 *
 * - throughput (default shape, pre-filled): the raw topics are filled first (the ingest role
 *   alone, generator sources, mixed scenario, as fast as they go, onto fresh raw topics); then
 *   MEMBERS - 1 process-role members start in child processes while this process starts process,
 *   correlate and store on that backlog (a deployment restarting after an outage), until every
 *   group has caught up. Events/s = the records not yet committed once every member joined /
 *   (every member joined → drained); the row's note also gives the rate from the members' launch.
 *   SOCSTREAM_BENCH_E2E_PREFILL=0 is the old shape: members joined first, then ingest runs
 *   concurrently with the other roles; events/s = records / (start → drained), bounded by the
 *   generator's ingest rate (~17,000 lines/s here).
 *   Groups and topics are the run's own (`bus.group_prefix`), so nothing else on the broker joins them.
 * - passthrough ceiling: the same client (@platformatic/kafka through src/bus/kafka.ts) consumes the
 *   same raw topic and produces every record unchanged to another topic, pipelined like the process
 *   role (8 batches in flight, commits in order).
 * - latency: a fresh run with the generators at a fixed 20,000 lines/s in total (port scans, one
 *   starting every second of event time per source: each reaches its rule's threshold within ~1 s,
 *   so alerts come during the run) and all roles running; p50/p99 from the alerts topic (Kafka
 *   timestamp − last_seen) and from socstream_detection_latency_seconds (ingest of the last
 *   contributing event → alert; interpolated within the histogram's buckets).
 *   SOCSTREAM_BENCH_E2E=throughput|latency runs one of the two; SOCSTREAM_BENCH_DEBUG=1 logs progress.
 * - peak RSS: maxRSS of this process (roles + bench) and of the member child.
 * - ratios: socstream / passthrough; socstream / the kafkajs baseline (bench/kafka.bench.ts runs it
 *   in the same `npm run bench`; its figure is read from SOCSTREAM_BENCH_BASELINE or the
 *   last bench/results.json).
 * Run alone: `node bench/e2e.bench.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createBus } from '../src/bus/create.ts';
import { partitionForKey } from '../src/bus/partitioner.ts';
import { validateConfig } from '../src/config/loader.ts';
import type { Config } from '../src/config/schema.ts';
import { prefixedTopics } from '../src/config/topics.ts';
import type { Bus } from '../src/core/bus.ts';
import { createLogger } from '../src/core/logger.ts';
import { createTelemetry, type Telemetry } from '../src/core/telemetry.ts';
import { buildEngine, buildProcessRole, detectorOptions } from '../src/pipeline/build.ts';
import { type RoleName, startRuntime } from '../src/pipeline/runtime.ts';
import { groupsOf, topicPlan } from '../src/pipeline/topics.ts';
import { InOrderWindow } from '../src/roles/in-order.ts';
import type { BenchRow } from './types.ts';

const BROKER = '127.0.0.1:9092';
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const RECORDS = QUICK ? 60_000 : 150_000;
const LATENCY_RATE = 20_000;
const LATENCY_SCENARIO = process.env.SOCSTREAM_BENCH_LATENCY_SCENARIO ?? 'portscan';
const LATENCY_ATTACK_EVERY_S = 1;
/** Lines per generator batch (ingest keeps up to 8 batches in flight; 5,000 held ~50 MB more). */
const INGEST_BATCH = 1000;
/** Batches in flight in the passthrough ceiling (as many as a pipelined consumer keeps). */
const PASSTHROUGH_IN_FLIGHT_BATCHES = 8;
const LATENCY_SECONDS = QUICK ? 3 : 5;
const PARTITIONS = 6;
/** Process-role members: this process and MEMBERS - 1 children (latency-bound, so more than cores). */
const MEMBERS = Number(process.env.SOCSTREAM_BENCH_MEMBERS ?? 3);
const THIS_FILE = fileURLToPath(import.meta.url);
/** Which runs: SOCSTREAM_BENCH_E2E=throughput or =latency runs one of them (profiling, debugging). */
/** The largest peak RSS of any member child, over both runs. */
let largestMemberRssMb = 0;
/**
 * Pre-filled (the default; SOCSTREAM_BENCH_E2E_PREFILL=0 turns it off): the raw topics are filled
 * before anything is timed (ingest role alone), then the members and this process join on the
 * backlog. The group itself does not stall on it; the first commits wait for the lake's first
 * flushes (docs/kafka.md, "A group on a backlog").
 */
const PREFILL = process.env.SOCSTREAM_BENCH_E2E_PREFILL !== '0';
/**
 * SOCSTREAM_BENCH_LATENCY_INGEST=child: the latency run's generators and ingest role run in a child
 * process (a paced producer apart), so the generator's CPU does not share the event loop of the
 * process member, correlate and store in this process. Default: all in this process.
 */
const LATENCY_INGEST_CHILD = process.env.SOCSTREAM_BENCH_LATENCY_INGEST === 'child';
/**
 * SOCSTREAM_BENCH_LATENCY_CORRELATE=child: the correlate role runs in a process of its own (its
 * event loop apart from the process member's); the detection-latency histogram then lives there,
 * and the breakdown's "ingest → alert published" row is the figure to read.
 */
const LATENCY_CORRELATE_CHILD = process.env.SOCSTREAM_BENCH_LATENCY_CORRELATE === 'child';
const PARTS = new Set((process.env.SOCSTREAM_BENCH_E2E ?? 'throughput,latency').split(','));
const RESULTS = new URL('./results.json', import.meta.url).pathname;

/** The roles' logs: none, or warnings and errors on stderr with SOCSTREAM_BENCH_LOG=1. */
const silent = () =>
  process.env.SOCSTREAM_BENCH_LOG === '1'
    ? createLogger({ level: 'warn', pretty: false })
    : createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

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

/**
 * One generator source per process member. The ingest role keys raw records by stream (per-stream
 * order for parsers with state), so one source fills ONE partition of its raw topic, and one
 * partition feeds one member. @platformatic/kafka assigns round robin over the flattened
 * topic-partitions (6 per topic, so member = partition % MEMBERS whatever the topic), so each
 * stream must land on a partition of a different residue: see balanceStreams.
 */
function sourceNames(): string[] {
  return Array.from({ length: MEMBERS }, (_, r) => `gen${r}`);
}

/**
 * A generator's stream key is `<name>@<start ms>` (src/sources/generator.ts), so the start picks
 * the partition: source r starts at the first millisecond from `fromMs` whose key lands on a
 * partition ≡ r (mod MEMBERS), i.e. on process member r. (Without it, the start time made the
 * spread random: in one profiled run one member got two streams and another none.)
 */
function balanceStreams(config: Config, fromMs: number): void {
  config.sources.forEach((source, r) => {
    const s = source as { name?: string; start?: string };
    let t = fromMs;
    while (partitionForKey(`${s.name}@${t}`, PARTITIONS) % MEMBERS !== r % MEMBERS) t++;
    s.start = new Date(t).toISOString();
  });
}
const SOURCE_NAMES = sourceNames();

/** A config on fresh topics (prefix) under a fresh data dir. */
function benchConfig(dir: string, prefix: string, generator: Record<string, unknown>): Config {
  return validateConfig(
    {
      data_dir: dir,
      // Groups of its own, like its topics: another socstream on this broker (a test, another
      // bench) shares no group with the run (their joins would rebalance the run's members).
      bus: {
        type: 'kafka',
        group_prefix: `socstream-${prefix}`,
        kafka: { brokers: [BROKER], client_id: 'socstream-bench' },
      },
      sources: SOURCE_NAMES.map((name, i) => ({
        type: 'generator',
        name,
        scenario: 'mixed',
        seed: 3 + i,
        ...generator,
        count: Math.ceil((generator.count as number) / SOURCE_NAMES.length),
      })),
      topics: prefixedTopics(`${prefix}.`, PARTITIONS),
      lake: { dir: join(dir, 'lake'), flush_interval_seconds: 1 },
      alert_store: { sqlite_path: join(dir, 'alerts.db') },
      dlq: { path: join(dir, 'dlq.ndjson') },
    },
    'e2e.bench',
  );
}

const CPU_NOW = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A second process-role member: this file run with `--e2e-member <config.json>`, stopped by SIGTERM. */
function startMember(
  configPath: string,
  role: 'process' | 'correlate' = 'process',
): {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<{ rssMb: number; cpuS: number }>;
} {
  const child = spawn(process.execPath, [THIS_FILE, '--e2e-member', configPath, role], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  // Subscribed: the member prints `ready` once its process role has joined the group.
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`member exited (${code}) before joining`)));
  });
  const done = new Promise<{ rssMb: number; cpuS: number }>((resolve) => {
    child.once('exit', () => {
      const m = /member (\S+) (\S+)/.exec(out);
      resolve({ rssMb: m ? Number(m[1]) : Number.NaN, cpuS: m ? Number(m[2]) : Number.NaN });
    });
  });
  return { child, ready, done };
}

/** MEMBERS - 1 member children as one: all joined, all stopped, CPU summed, the largest RSS. */
function startMembers(configPath: string) {
  const all = Array.from({ length: MEMBERS - 1 }, () => startMember(configPath));
  return {
    ready: Promise.all(all.map((m) => m.ready)),
    stop: () => {
      for (const m of all) m.child.kill('SIGTERM');
    },
    done: Promise.all(all.map((m) => m.done)).then((r) => ({
      cpuS: r.reduce((n, x) => n + x.cpuS, 0),
      rssMb: Math.max(0, ...r.map((x) => x.rssMb)),
    })),
  };
}

/** SOCSTREAM_BENCH_LATENCY_INGEST=child: the latency run's generators + ingest role, until their lines are acked. */
async function ingestMain(configPath: string): Promise<void> {
  const config = validateConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  const runtime = await startRuntime({
    config,
    file: configPath,
    roles: new Set<RoleName>(['ingest']),
    logger: silent(),
    telemetry: createTelemetry({ defaultMetrics: false }),
    drainTimeoutMs: 1000,
  });
  await runtime.sourcesEnded;
  await runtime.stop();
  process.exit(0);
}

async function memberMain(configPath: string, role: RoleName): Promise<void> {
  const config = validateConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
  const runtime = await startRuntime({
    config,
    file: configPath,
    roles: new Set<RoleName>([role]),
    logger: silent(),
    telemetry: createTelemetry({ defaultMetrics: false }),
    drainTimeoutMs: 1000,
  });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await runtime.stop();
  process.stdout.write(
    `member ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} ${CPU_NOW().toFixed(2)}\n`,
  );
  process.exit(0);
}

interface Throughput {
  /** From the members' launch to drained. */
  perSecond: number;
  /** From every member joined to drained, over the records not committed at the join. */
  steadyPerSecond: number;
  steadyRecords: number;
  steadySeconds: number;
  seconds: number;
  ingestSeconds: number;
  cpuSeconds: number;
  memberCpu: number;
  rssMb: number;
  memberRssMb: number;
  events: number;
}

/**
 * The raw topics filled before anything is timed (the ingest role alone, generators as fast as
 * they go): the timed part then measures socstream, not the generator (before this, ingest ran
 * concurrently and bounded the row at its own ~17,000 records/s). Returns the ingest seconds.
 */
async function prefill(config: Config): Promise<number> {
  const t0 = performance.now();
  const runtime = await startRuntime({
    config,
    file: 'e2e.bench',
    roles: new Set<RoleName>(['ingest']),
    logger: silent(),
    telemetry: createTelemetry({ defaultMetrics: false }),
    drainTimeoutMs: 60_000,
  });
  await runtime.sourcesEnded;
  const seconds = (performance.now() - t0) / 1000;
  await runtime.stop();
  return seconds;
}

async function throughput(config: Config, configPath: string): Promise<Throughput> {
  let ingestSeconds = 0;
  let member: ReturnType<typeof startMembers> | undefined;
  if (PREFILL) {
    balanceStreams(config, Date.now());
    ingestSeconds = await prefill(config);
  } else {
    // The members join before any data flows (a rebalance mid-stream replays batches).
    member = startMembers(configPath);
    await member.ready;
    balanceStreams(config, Date.now());
  }
  // PREFILL: timed from the member children's launch (they join while this process starts its
  // roles, on the backlog: the group rebalances at the start, as a deployment starting on a backlog).
  const telemetry = createTelemetry({ defaultMetrics: false });
  const t0 = performance.now();
  const cpu0 = CPU_NOW();
  member ??= startMembers(configPath);
  const runtime = await startRuntime({
    config,
    file: 'e2e.bench',
    roles: new Set<RoleName>(
      PREFILL ? ['process', 'correlate', 'store'] : ['ingest', 'process', 'correlate', 'store'],
    ),
    logger: silent(),
    telemetry,
    drainTimeoutMs: 60_000,
  });
  await member.ready;
  // Every member has joined: the steady-state part is timed from here, on what is not committed
  // yet (records being processed at this instant count as after it: at most a lake flush's worth).
  const tJoined = performance.now();
  const committedAtJoin = (
    await runtime.bus.committedOffsets(
      groupsOf(config).process,
      SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`),
    )
  ).reduce((n, o) => n + Number(o.offset), 0);
  if (process.env.SOCSTREAM_BENCH_DEBUG)
    process.stderr.write(
      `roles started (groups joined) after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  // Progress of the process and store groups (committed offsets), sampled every 500 ms.
  const rawTopics = SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`);
  const sum = (o: Array<{ offset: bigint }>) => o.reduce((n, x) => n + Number(x.offset), 0);
  const lag = async (group: string, topics: string[]) =>
    sum(await runtime.bus.endOffsets(topics)) - sum(await runtime.bus.committedOffsets(group, topics));
  // SOCSTREAM_BENCH_DEBUG: each group's lag every 500 ms (the one pass has no event topics).
  const sampler = setInterval(() => {
    if (!process.env.SOCSTREAM_BENCH_DEBUG) return;
    const s = (performance.now() - t0) / 1000;
    void Promise.all([
      lag(groupsOf(config).process, rawTopics),
      lag(groupsOf(config).correlate, [config.topics.matches]),
      lag(groupsOf(config).store, [config.topics.alerts]),
    ])
      .then(([p, c, st]) =>
        process.stderr.write(`${s.toFixed(1)} s lag: process ${p} correlate ${c} store ${st}\n`),
      )
      .catch(() => {});
  }, 500);
  if (!PREFILL) {
    await runtime.sourcesEnded;
    ingestSeconds = (performance.now() - t0) / 1000;
  }
  // Caught up: every group's lag is 0 (polled every 100 ms).
  const drained = await runtime.drain(300_000);
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = CPU_NOW() - cpu0;
  member.stop();
  await runtime.stop();
  const m = await member.done;
  if (!drained) throw new Error('socstream did not catch up within 300 s');
  const steadySeconds = seconds - (tJoined - t0) / 1000;
  return {
    perSecond: RECORDS / seconds,
    steadyPerSecond: (RECORDS - committedAtJoin) / steadySeconds,
    steadyRecords: RECORDS - committedAtJoin,
    steadySeconds,
    seconds,
    ingestSeconds,
    cpuSeconds,
    memberCpu: m.cpuS,
    rssMb: process.resourceUsage().maxRSS / 1024,
    memberRssMb: m.rssMb,
    events: await counterTotal(telemetry, 'socstream_events_out_total'),
  };
}

async function counterTotal(telemetry: Telemetry, name: string): Promise<number> {
  const metric = telemetry.registry.getSingleMetric(name);
  if (!metric) return Number.NaN;
  const m = await metric.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

/** The same client: consume the raw topic, publish every record unchanged, commit. */
async function passthrough(
  bus: Bus,
  from: string[],
  to: string,
): Promise<{ perSecond: number; seconds: number }> {
  await bus.createTopics([{ name: to, partitions: PARTITIONS }]);
  const sub = await bus.subscribe({
    group: `bench-passthrough-${randomUUID()}`,
    topics: from,
    from: 'earliest',
  });
  let seen = 0;
  let t0 = 0;
  // Pipelined like the process role (same bound), so the ceiling is what the client can do.
  const window = new InOrderWindow(PASSTHROUGH_IN_FLIGHT_BATCHES);
  for await (const batch of sub) {
    if (seen === 0) t0 = performance.now();
    const unchanged = batch.records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
    }));
    await window.add(bus.publish(to, unchanged), () => sub.commit(batch));
    seen += batch.records.length;
    if (seen >= RECORDS) break;
  }
  await window.flush();
  const seconds = (performance.now() - t0) / 1000;
  await sub.close();
  return { perSecond: seen / seconds, seconds };
}

/**
 * The process role alone, one member in this process, over the raw topics the throughput run
 * filled (a fresh group, its own matches topic and lake): the whole one-pass job of a member —
 * consume, parse, normalize, enrich, match, publish matches, write the lake, commit — in
 * records/s and CPU per record. CPU time, unlike wall time, stays comparable on a shared machine.
 */
async function processAlone(
  config: Config,
  prefix: string,
  rawTopics: string[],
): Promise<{ perSecond: number; cpuUsPerRecord: number }> {
  const alone: Config = {
    ...config,
    topics: { ...config.topics, matches: `${prefix}.alone.matches` },
    lake: { ...config.lake, dir: join(config.data_dir, 'lake-alone') },
  };
  const ctx = { logger: silent(), telemetry: createTelemetry({ defaultMetrics: false }) };
  const bus = createBus(alone.bus);
  const group = `bench-process-alone-${randomUUID()}`;
  const plan = topicPlan(alone, []);
  plan.raw = rawTopics.map((topic) => ({ topic }));
  await bus.createTopics([{ name: plan.matches, partitions: PARTITIONS }]);
  const engine = buildEngine(alone, ctx, 'e2e.bench');
  await engine.enricher.start();
  const role = buildProcessRole(alone, plan, {
    bus,
    ctx,
    processor: engine.processor,
    detection: detectorOptions(alone, ctx),
    group,
  });
  const end = (await bus.endOffsets(rawTopics)).reduce((n, o) => n + Number(o.offset), 0);
  const cpu0 = CPU_NOW();
  const t0 = performance.now();
  const run = role.run();
  await role.ready;
  for (;;) {
    const done = (await bus.committedOffsets(group, rawTopics)).reduce((n, o) => n + Number(o.offset), 0);
    if (done >= end) break;
    await role.flush();
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = CPU_NOW() - cpu0;
  await role.stop();
  await run;
  await engine.enricher.stop();
  await bus.close();
  return { perSecond: end / seconds, cpuUsPerRecord: (cpu * 1e6) / end };
}

/** Quantile from a prom-client histogram's cumulative buckets, linear within the bucket. */
export function histogramQuantile(buckets: ReadonlyArray<{ le: number; count: number }>, q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const span = b.count - prevCount;
      return span === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / span;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

async function latencyBuckets(telemetry: Telemetry): Promise<Array<{ le: number; count: number }>> {
  const metric = telemetry.registry.getSingleMetric('socstream_detection_latency_seconds');
  if (!metric) return [];
  const m = await metric.get();
  return m.values
    .filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket'))
    .map((v) => ({
      le: v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le),
      count: v.value,
    }))
    .sort((a, b) => a.le - b.le);
}

async function latency(config: Config, configPath: string) {
  const member = startMembers(configPath);
  const correlator = LATENCY_CORRELATE_CHILD ? startMember(configPath, 'correlate') : undefined;
  await member.ready;
  await correlator?.ready;
  // Event time starts now (a few ms at most later), so event time ≈ produce time.
  balanceStreams(config, Date.now());
  const telemetry = createTelemetry({ defaultMetrics: false });
  const runtime = await startRuntime({
    config,
    file: 'e2e.bench',
    roles: new Set<RoleName>([
      ...(LATENCY_INGEST_CHILD ? [] : (['ingest'] as const)),
      'process',
      ...(LATENCY_CORRELATE_CHILD ? [] : (['correlate'] as const)),
      'store',
    ]),
    logger: silent(),
    telemetry,
    drainTimeoutMs: 30_000,
  });
  // SOCSTREAM_BENCH_DEBUG: the lag of each group every 500 ms (where a backlog builds up).
  const lagOf = async (group: string, topics: string[]) => {
    const ends = await runtime.bus.endOffsets(topics);
    const done = await runtime.bus.committedOffsets(group, topics);
    return ends.reduce((n, e) => n + Number(e.offset), 0) - done.reduce((n, c) => n + Number(c.offset), 0);
  };
  const t0 = performance.now();
  // SOCSTREAM_BENCH_DEBUG: this process's event-loop delay (ingest, a process member, correlate
  // and store share it): a blocked loop delays every stage's network callbacks alike.
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const sampler = process.env.SOCSTREAM_BENCH_DEBUG
    ? setInterval(() => {
        const raw = SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`);
        const events = [config.topics.network, config.topics.auth, config.topics.web, config.topics.other];
        void Promise.all([
          lagOf(groupsOf(config).process, raw),
          lagOf(groupsOf(config).correlate, [config.topics.matches]),
          lagOf(groupsOf(config).store, events),
        ])
          .then(([p, c, s]) =>
            process.stderr.write(
              `${((performance.now() - t0) / 1000).toFixed(1)} s lag: process ${p} correlate ${c} store ${s}\n`,
            ),
          )
          .catch(() => {});
      }, 500)
    : undefined;
  if (LATENCY_INGEST_CHILD) {
    // The generators and the ingest role in a process of their own (the paced producer): this
    // process keeps a process member, correlate and store, as a deployment with ingest apart.
    const ingestPath = `${configPath}.ingest.json`;
    writeFileSync(ingestPath, JSON.stringify(config));
    const child = spawn(process.execPath, [THIS_FILE, '--e2e-ingest', ingestPath], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await new Promise<void>((resolve, reject) =>
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ingest child exited ${code}`)),
      ),
    );
  } else await runtime.sourcesEnded;
  // The paced generator falls behind its rate on a loaded machine: event time then lags wall time
  // and the timestamps figure grows by that lag (the histogram, from ingest time, does not).
  const ingestSeconds = (performance.now() - t0) / 1000;
  await runtime.drain(60_000);
  clearInterval(sampler);
  eld.disable();
  if (process.env.SOCSTREAM_BENCH_DEBUG)
    process.stderr.write(
      `latency: main event-loop delay p50 ${ms(eld.percentile(50))} p99 ${ms(eld.percentile(99))} max ${ms(eld.max)} ms\n`,
    );
  if (process.env.SOCSTREAM_BENCH_DEBUG) {
    const total = async (topic: string) =>
      (await runtime.bus.endOffsets([topic])).reduce((n, o) => n + Number(o.offset), 0);
    process.stderr.write(
      `latency: drained; matches ${await total(config.topics.matches)}, alerts ${await total(config.topics.alerts)}, process lag ${await lagOf(
        groupsOf(config).process,
        SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`),
      )}\n`,
    );
  }
  // Idle partitions release the watermark after idle_partition_ms: let the windows close.
  await new Promise((r) => setTimeout(r, 3000));
  await runtime.drain(10_000);
  member.stop();
  correlator?.child.kill('SIGTERM');
  await runtime.stop();
  const m = await member.done;
  await correlator?.done;
  const buckets = await latencyBuckets(telemetry);
  const stamped = await alertDelays(config);
  const breakdown = await latencyBreakdown(config);
  return {
    stamped,
    breakdown,
    ingestSeconds,
    p50: histogramQuantile(buckets, 0.5),
    p99: histogramQuantile(buckets, 0.99),
    alerts: buckets.at(-1)?.count ?? 0,
    rssMb: process.resourceUsage().maxRSS / 1024,
    memberRssMb: m.rssMb,
  };
}

/**
 * Produce → alert by timestamps: every record on the alerts topic (new alerts and updates), its
 * Kafka timestamp (when the correlate role produced it) minus the alert's last_seen (event time of
 * its last contributing event). The paced generator stamps line i with start + i / rate and emits it
 * at about that wall time, so event time ≈ the moment the line was produced to the raw topic.
 */
async function alertDelays(config: Config): Promise<Delays> {
  const alerts = await topicDelays(config, config.topics.alerts, (v, ts) => {
    const alert = v as { last_seen?: number };
    return typeof alert.last_seen === 'number' ? ts - alert.last_seen : null;
  });
  return alerts;
}

interface Delays {
  p50: number;
  p99: number;
  n: number;
}

/** p50/p99 of `delay(value, Kafka timestamp)` over every record of a topic (null: not counted). */
async function topicDelays(
  config: Config,
  topic: string,
  delay: (value: unknown, timestamp: number) => number | null,
): Promise<Delays> {
  const bus = createBus(config.bus);
  try {
    const end = (await bus.endOffsets([topic])).reduce((n, o) => n + Number(o.offset), 0);
    const delays: number[] = [];
    let seen = 0;
    if (end > 0) {
      const sub = await bus.subscribe({
        group: `bench-delays-${randomUUID()}`,
        topics: [topic],
        from: 'earliest',
      });
      const deadline = Date.now() + 30_000;
      const decoder = new TextDecoder();
      for await (const batch of sub) {
        for (const r of batch.records) {
          const d = delay(JSON.parse(decoder.decode(r.value)), r.timestamp);
          if (d !== null) delays.push(d);
        }
        seen += batch.records.length;
        if (seen >= end || Date.now() > deadline) break;
      }
      await sub.close();
    }
    delays.sort((a, b) => a - b);
    const at = (q: number) =>
      delays.length ? delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] : Number.NaN;
    return { p50: at(0.5), p99: at(0.99), n: delays.length };
  } finally {
    await bus.close();
  }
}

/** Every record of a topic, decoded, with its Kafka timestamp. */
async function readTopic(
  config: Config,
  topic: string,
): Promise<Array<{ value: unknown; timestamp: number }>> {
  const bus = createBus(config.bus);
  const out: Array<{ value: unknown; timestamp: number }> = [];
  try {
    const end = (await bus.endOffsets([topic])).reduce((n, o) => n + Number(o.offset), 0);
    if (end === 0) return out;
    const sub = await bus.subscribe({
      group: `bench-read-${randomUUID()}`,
      topics: [topic],
      from: 'earliest',
    });
    const deadline = Date.now() + 30_000;
    const decoder = new TextDecoder();
    for await (const batch of sub) {
      for (const r of batch.records)
        out.push({ value: JSON.parse(decoder.decode(r.value)), timestamp: r.timestamp });
      if (out.length >= end || Date.now() > deadline) break;
    }
    await sub.close();
    return out;
  } finally {
    await bus.close();
  }
}

/**
 * Where the detection latency goes, per new alert, from the topics after the run. The alert's last
 * contributing event (of its event_ids, the one ingested last) is found on the matches topic:
 * - ingest → match published: the match record's timestamp − its ingest_time (the ingest publish,
 *   the raw hop, the process member's batch and its matches publish);
 * - match published → decided: the alert's created_at − that timestamp (the matches hop, the
 *   correlate role's batch and any wait for a watermark);
 * - decided → alert published: the alerts record's timestamp − created_at (the alert outputs).
 */
async function latencyBreakdown(
  config: Config,
): Promise<{ toMatch: Delays; toDecision: Delays; toPublish: Delays; toTotal: Delays }> {
  const matches = new Map<string, { published: number; ingest: number }>();
  // Match records are packed per partition (a JSON array of messages) or a lone message.
  const records = await readTopic(config, config.topics.matches);
  const unpacked = records.flatMap(({ value, timestamp }) =>
    (Array.isArray(value) ? value : [value]).map((v) => ({ value: v as unknown, timestamp })),
  );
  for (const { value, timestamp } of unpacked) {
    const m = value as {
      type?: string;
      event_id?: string;
      match?: { event_id?: string };
      ingest_time?: number;
    };
    const id = m.type === 'event' ? m.event_id : m.match?.event_id;
    if (typeof id === 'string' && typeof m.ingest_time === 'number')
      matches.set(id, { published: timestamp, ingest: m.ingest_time });
  }
  const toMatch: number[] = [];
  const toDecision: number[] = [];
  const toPublish: number[] = [];
  const toTotal: number[] = [];
  for (const { value, timestamp } of await readTopic(config, config.topics.alerts)) {
    const a = value as { created_at?: number; update?: boolean; event_ids?: string[] };
    if (a.update === true || typeof a.created_at !== 'number') continue;
    let last: { published: number; ingest: number } | undefined;
    for (const id of a.event_ids ?? []) {
      const m = matches.get(id);
      if (m && (last === undefined || m.ingest > last.ingest)) last = m;
    }
    toPublish.push(timestamp - a.created_at);
    if (last !== undefined) toTotal.push(timestamp - last.ingest);
    if (last === undefined) continue;
    toMatch.push(last.published - last.ingest);
    toDecision.push(a.created_at - last.published);
  }
  return {
    toMatch: quantiles(toMatch),
    toDecision: quantiles(toDecision),
    toPublish: quantiles(toPublish),
    toTotal: quantiles(toTotal),
  };
}

/** Nanoseconds (perf_hooks histograms) → whole milliseconds. */
function ms(ns: number): string {
  return (ns / 1e6).toFixed(0);
}

function quantiles(values: number[]): Delays {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

/** The kafkajs baseline's records/s from this run's environment or the last results.json. */
function baselineRate(): number {
  const fromEnv = Number(process.env.SOCSTREAM_BENCH_BASELINE);
  if (fromEnv > 0) return fromEnv;
  if (!existsSync(RESULTS)) return Number.NaN;
  try {
    const r = JSON.parse(readFileSync(RESULTS, 'utf8')) as {
      rows?: Array<{ bench: string; value: unknown }>;
    };
    const row = r.rows?.find((x) => x.bench === 'baseline');
    return typeof row?.value === 'number' ? row.value : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function skipped(note: string): BenchRow[] {
  return [
    'socstream events/s (2 process members)',
    'passthrough ceiling records/s',
    'produce → alert latency p99 at 20,000 lines/s (timestamps)',
    'detection latency p99 at 20,000 lines/s',
    'peak RSS',
  ].map((metric) => ({ bench: 'e2e', metric, value: Number.NaN, unit: '', note }));
}

export async function run(): Promise<BenchRow[]> {
  if (!(await brokerUp())) return skipped(`no broker on ${BROKER} (npm run kafka:start)`);
  const dir = mkdtempSync(join(tmpdir(), 'socstream-e2e-'));
  const rows: BenchRow[] = [];
  try {
    const prefix = `bench-e2e-${randomUUID().slice(0, 8)}`;
    const config = benchConfig(dir, prefix, {
      rate: null,
      count: RECORDS,
      time_rate: 2000,
      batch_size: INGEST_BATCH,
    });
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    if (PARTS.has('throughput')) rows.push(...(await throughputRows(config, configPath, prefix)));
    if (PARTS.has('latency')) rows.push(...(await latencyRows(dir)));
    rows.push({
      bench: 'e2e',
      metric: 'peak RSS, main process (process+correlate+store [+ingest])',
      value: Math.round(process.resourceUsage().maxRSS / 1024),
      unit: 'MB',
      target: { op: '<=', value: 400 },
      note: `largest member process: ${Math.round(largestMemberRssMb)} MB`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function throughputRows(config: Config, configPath: string, prefix: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  {
    const t = await throughput(config, configPath);
    largestMemberRssMb = Math.max(largestMemberRssMb, t.memberRssMb);
    const bus = createBus(config.bus);
    const p = await passthrough(
      bus,
      SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`),
      `${prefix}.passthrough`,
    );
    await bus.close();
    const rawTopics = SOURCE_NAMES.map((n) => `${config.topics.raw_prefix}${n}`);
    const alone = await processAlone(config, prefix, rawTopics);
    const baseline = baselineRate();
    rows.push(
      {
        bench: 'e2e',
        metric: PREFILL
          ? 'ingest: generator → raw topic (pre-fill, before the timed part)'
          : 'ingest: generator → raw topic (while socstream consumes)',
        value: Math.round(RECORDS / t.ingestSeconds),
        unit: 'records/s',
        note: `${RECORDS} mixed-scenario lines, ${PARTITIONS} partitions, lz4`,
      },
      {
        bench: 'e2e',
        metric: `socstream: raw topic → lake + alerts, one pass (${MEMBERS} process members)`,
        value: Math.round(PREFILL ? t.steadyPerSecond : t.perSecond),
        unit: 'events/s',
        target: { op: '>=', value: 100_000 },
        note: `${PREFILL ? `pre-filled topic; ${t.steadyRecords} records in ${t.steadySeconds.toFixed(1)} s from every member joined to every group drained; from the members' launch (joins included) ${Math.round(t.perSecond)}/s, ${RECORDS} in ${t.seconds.toFixed(1)} s` : `${RECORDS} records in ${t.seconds.toFixed(1)} s from roles start to every group drained, ingest running concurrently`}; CPU: ${t.cpuSeconds.toFixed(1)} s main (process+correlate+store) + ${t.memberCpu.toFixed(1)} s in ${MEMBERS - 1} member process(es); ${t.events} sink writes (socstream_events_out_total)`,
      },
      {
        bench: 'e2e',
        metric: 'passthrough ceiling (consume raw, produce unchanged, same client)',
        value: Math.round(p.perSecond),
        unit: 'records/s',
        note: `${RECORDS} records in ${p.seconds.toFixed(1)} s, one consumer, @platformatic/kafka via src/bus/kafka.ts`,
      },
      {
        bench: 'e2e',
        metric: 'process role alone (1 member): raw topics → lake + matches topic (one pass)',
        value: Math.round(alone.perSecond),
        unit: 'records/s',
        note: `${RECORDS} records; ${alone.cpuUsPerRecord.toFixed(0)} µs CPU per record in the member (consume, parse, normalize, enrich, match, publish matches, write the lake, commit after its flush; broker not counted)`,
      },
      {
        bench: 'e2e',
        metric: 'ratio socstream / passthrough',
        value: Math.round((100 * (PREFILL ? t.steadyPerSecond : t.perSecond)) / p.perSecond),
        unit: '%',
        target: { op: '>=', value: 60 },
      },
      {
        bench: 'e2e',
        metric: 'ratio socstream / kafkajs baseline',
        value: Math.round((100 * (PREFILL ? t.steadyPerSecond : t.perSecond)) / baseline),
        unit: '%',
        note: Number.isNaN(baseline)
          ? 'no baseline figure (run bench kafka first)'
          : `baseline ${Math.round(baseline)} records/s (bench kafka)`,
      },
    );
  }
  return rows;
}

async function latencyRows(dir: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  {
    const lprefix = `bench-e2e-lat-${randomUUID().slice(0, 8)}`;
    const ldir = join(dir, 'latency');
    // The rate is per source: the sources together produce LATENCY_RATE lines/s. Port scans by
    // default: one reaches its rule's threshold (20 ports) ~1 s of event time after it starts, so
    // alerts come during a short paced run — the brute-force and threat attacks of `mixed` take
    // 25–50 s of event time (= wall time here) to complete and never alerted in a 5 s run.
    const lconfig = benchConfig(ldir, lprefix, {
      rate: LATENCY_RATE / SOURCE_NAMES.length,
      count: LATENCY_RATE * LATENCY_SECONDS,
      scenario: LATENCY_SCENARIO,
      attack_every_seconds: LATENCY_ATTACK_EVERY_S,
    });
    // Ingest keys raw records by stream, so most raw partitions stay empty, and an empty partition
    // holds the correlation watermark back for detect.idle_partition_ms (30 s by default) — longer
    // than this run. 1 s here (SOCSTREAM_BENCH_IDLE_MS to try another); port scans fire eagerly
    // (value_count gte), so they do not wait for the watermark either way.
    lconfig.detect.idle_partition_ms = Number(process.env.SOCSTREAM_BENCH_IDLE_MS ?? 1000);
    const lpath = join(dir, 'latency-config.json');
    writeFileSync(lpath, JSON.stringify(lconfig));
    const l = await latency(lconfig, lpath);
    const lnote = `${LATENCY_RATE * LATENCY_SECONDS} lines at ${LATENCY_RATE}/s (${SOURCE_NAMES.length} sources), scenario ${LATENCY_SCENARIO}, an attack every ${LATENCY_ATTACK_EVERY_S} s of event time per source; ${l.alerts} alerts observed; socstream_detection_latency_seconds, interpolated in its buckets${LATENCY_INGEST_CHILD ? '; generators + ingest in a child process' : ''}`;
    const snote = `${l.stamped.n} alert records (new + updates) on the alerts topic: Kafka timestamp − alert last_seen (event time ≈ produce time of a paced line while the generator keeps its rate: it took ${l.ingestSeconds.toFixed(1)} s for ${LATENCY_SECONDS} s of lines)`;
    rows.push(
      {
        bench: 'e2e',
        metric: 'produce → alert latency p50 at 20,000 lines/s (timestamps)',
        value: l.stamped.p50,
        unit: 'ms',
        note: snote,
      },
      {
        bench: 'e2e',
        metric: 'produce → alert latency p99 at 20,000 lines/s (timestamps)',
        value: l.stamped.p99,
        unit: 'ms',
        target: { op: '<=', value: 500 },
        note: snote,
      },
      {
        bench: 'e2e',
        metric: 'detection latency p50 at 20,000 lines/s',
        value: l.p50 * 1000,
        unit: 'ms',
        note: lnote,
      },
      {
        bench: 'e2e',
        metric: 'detection latency p99 at 20,000 lines/s',
        value: l.p99 * 1000,
        unit: 'ms',
        note: lnote,
      },
    );
    const stage = (name: string, d: Delays, what: string): BenchRow => ({
      bench: 'e2e',
      metric: `latency breakdown: ${name}, p50 (p99 in the note)`,
      value: d.p50,
      unit: 'ms',
      note: `p99 ${d.p99} ms over ${d.n} new alerts; ${what}`,
    });
    const { toMatch, toDecision, toPublish, toTotal } = l.breakdown;
    rows.push(
      stage(
        'ingest → match published',
        toMatch,
        "matches-topic timestamp − ingest_time of the alert's last event",
      ),
      stage('match published → decided', toDecision, 'created_at − matches-topic timestamp'),
      stage('decided → alert published', toPublish, 'alerts-topic timestamp − created_at'),
      stage(
        'ingest → alert published',
        toTotal,
        "alerts-topic timestamp − ingest_time of the alert's last event (the stages together, from the topics)",
      ),
    );
    largestMemberRssMb = Math.max(largestMemberRssMb, l.memberRssMb);
  }
  return rows;
}

if (process.argv[2] === '--e2e-member') {
  await memberMain(process.argv[3], (process.argv[4] ?? 'process') as RoleName);
} else if (process.argv[2] === '--e2e-ingest') {
  await ingestMain(process.argv[3]);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
