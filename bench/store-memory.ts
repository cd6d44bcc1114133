/**
 * RSS and CPU of the store role on a fixed workload (issue 8): N envelopes of five log types
 * (test/integration/lake-envelopes.ts, real Zeek records) are produced to fresh topics on the
 * broker at 127.0.0.1:9092, then one store role (buildStoreRole with the default config but its own
 * lake dir, topics and group) consumes them in a child process until everything is committed.
 * Reported: peak RSS sampled from /proc every 100 ms, the child's own peak heap / external /
 * arrayBuffers (process.memoryUsage every 250 ms), CPU seconds (utime + stime), wall time.
 *
 *   node bench/store-memory.ts [--events 200000] [--tree DIR] [--set lake.key=value ...]
 *
 * `--tree` runs the store role of another checkout (e.g. a `git worktree` of an older commit) on
 * the same workload, for before/after figures. Not part of `npm run bench` (needs the broker).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { KafkaBus } from '../src/bus/kafka.ts';
import { kafkaSchema } from '../src/config/schema.ts';
import { prefixedTopics } from '../src/config/topics.ts';
import type { BusRecord } from '../src/core/bus.ts';
import { LOG_TYPES, lakeEnvelopes, topicOf } from '../test/integration/lake-envelopes.ts';

const CHILD_FLAG = '--store-child';

if (process.argv.includes(CHILD_FLAG)) {
  await runChild();
} else {
  await runParent();
}

/** The store role under test: `tree`'s code, default config plus overrides. */
async function runChild(): Promise<void> {
  const settings = JSON.parse(process.env.STORE_MEMORY_SETTINGS ?? '{}') as {
    tree: string;
    group: string;
    topics: { network: string; auth: string; web: string; other: string; alerts: string };
    lake: Record<string, unknown>;
  };
  const src = (p: string) => join(settings.tree, 'src', p);
  const { configSchema } = await import(src('config/schema.ts'));
  const { KafkaBus: Bus } = await import(src('bus/kafka.ts'));
  const { createTelemetry } = await import(src('core/telemetry.ts'));
  const { buildStoreRole } = await import(src('roles/store.ts'));
  const { pino } = await import('pino');
  const dir = mkdtempSync(join(tmpdir(), 'socstream-store-memory-'));
  const config = configSchema.parse({
    data_dir: dir,
    bus: { type: 'kafka', kafka: { brokers: ['127.0.0.1:9092'] } },
    topics: settings.topics,
    lake: { dir: join(dir, 'lake'), ...settings.lake },
    alert_store: { sqlite_path: join(dir, 'alerts.db') },
  });
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const telemetry = createTelemetry({ defaultMetrics: false });
  const bus = new Bus(config.bus.kafka);
  const role = buildStoreRole(config, { bus, ctx: { logger, telemetry }, group: settings.group });
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], m[k]);
  }, 250);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    process.stdout.write(`${JSON.stringify({ peak })}\n`);
    void role
      .stop()
      .then(() => bus.close())
      .finally(() => rmSync(dir, { recursive: true, force: true }));
  });
  await role.run();
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** utime + stime of a process, seconds (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function runParent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      tree: { type: 'string', default: resolve(new URL('..', import.meta.url).pathname) },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const events = Number(values.events);
  const perType = Math.ceil(events / LOG_TYPES.length);
  const lake: Record<string, unknown> = {};
  for (const s of values.set ?? []) {
    const [key, value] = s.replace(/^lake\./, '').split('=');
    if (key && value !== undefined) lake[key] = Number.isNaN(Number(value)) ? value : Number(value);
  }
  const run = `storemem-${randomBytes(4).toString('hex')}`;
  const topics = prefixedTopics(`${run}.`, 3);
  const eventTopics = [topics.network, topics.auth, topics.web, topics.other];
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'store-memory' }));
  await bus.createTopics([...eventTopics, topics.alerts].map((name) => ({ name, partitions: 3 })));
  const encoder = new TextEncoder();
  let produced = 0;
  for (let start = 0; start < perType; start += 500) {
    const envs = lakeEnvelopes(perType, run, start, Math.min(perType, start + 500));
    const byTopic = new Map<string, BusRecord[]>();
    for (const env of envs) {
      const topic = topicOf(env.log_type, topics);
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push({ key: String(env.normalized.src_ip ?? ''), value: encoder.encode(JSON.stringify(env)) });
    }
    await Promise.all([...byTopic].map(([topic, records]) => bus.publish(topic, records)));
    produced += envs.length;
  }
  const group = `${run}-store`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, CHILD_FLAG], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      STORE_MEMORY_SETTINGS: JSON.stringify({ tree: values.tree, group, topics, lake }),
    },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const pid = child.pid as number;
  let peakRssKb = 0;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    try {
      const kb = rssKb(pid);
      samples.push(kb);
      peakRssKb = Math.max(peakRssKb, kb);
    } catch {}
  }, 100);
  let committed = 0n;
  let childExit: number | null | undefined;
  child.once('exit', (code) => {
    childExit = code;
  });
  while (committed < BigInt(produced)) {
    if (childExit !== undefined)
      throw new Error(`the store role exited (${childExit}) at ${committed} of ${produced}`);
    await sleep(500);
    committed = (await bus.committedOffsets(group, eventTopics)).reduce((n, o) => n + o.offset, 0n);
    if (performance.now() - t0 > 600_000) throw new Error(`only ${committed} of ${produced} committed`);
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds(pid);
  clearInterval(sampler);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await bus.close();
  const mb = (b: number) => Math.round(b / 1048576);
  const peak =
    (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { peak?: Record<string, number> }).peak ?? {};
  const result = {
    tree: values.tree,
    events: produced,
    lake,
    peak_rss_mb: Math.round(peakRssKb / 1024),
    peak_heap_used_mb: mb(peak.heapUsed ?? 0),
    peak_heap_total_mb: mb(peak.heapTotal ?? 0),
    peak_external_mb: mb(peak.external ?? 0),
    peak_array_buffers_mb: mb(peak.arrayBuffers ?? 0),
    cpu_s: cpuS,
    wall_s: Math.round(wallS * 10) / 10,
    events_per_cpu_s: Math.round(produced / cpuS),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
