/**
 * The embedded deployment end to end: `socstream run` on the in-process (memory) bus, log files →
 * parse, normalize, enrich, detect (the bundled rules) → a durable Parquet lake + alerts (SQLite),
 * one process. Input: `socstream generate --scenario mixed` written to files (one per log, 13 log
 * types, the formats the real tools write). The run is a child process, watched on its /metrics:
 * - from launch: process start → every event in renamed Parquet files (socstream_events_out_total);
 * - steady: events parsed per second between 20 % and 80 % of the input (socstream_events_in_total),
 *   without launch and the last flush;
 * - peak RSS (VmHWM) and CPU seconds of the process (/proc).
 * The lake flushes every 2 s here (flush_interval_seconds), so the tail after the last event waits
 * at most that. SOCSTREAM_BENCH_CPU_PROFILE=DIR profiles the run. Run alone: `node bench/embedded.bench.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BenchRow } from './types.ts';

const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const EVENTS = Number(process.env.SOCSTREAM_BENCH_EMBEDDED_EVENTS ?? (QUICK ? 50_000 : 200_000));
/**
 * The checkout whose `socstream run` is measured: this one, or SOCSTREAM_BENCH_EMBEDDED_CHECKOUT=<dir>
 * (e.g. a worktree of main, for a paired A/B run; the input, rules and watcher stay this checkout's).
 */
const CHECKOUT = process.env.SOCSTREAM_BENCH_EMBEDDED_CHECKOUT;
/** The deployment's launcher (bin/socstream.js: sources or the build, MALLOC_ARENA_MAX). */
const MAIN = new URL('../bin/socstream.js', import.meta.url).pathname;
const RUN_MAIN = CHECKOUT ? join(CHECKOUT, 'bin/socstream.js') : MAIN;
const RULES = new URL('../rules', import.meta.url).pathname;
const TIMEOUT_MS = 200_000;
const POLL_MS = 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `/proc/<pid>`: CPU seconds (user + system), peak RSS (VmHWM) and RSS now of a running child. */
function procFigures(pid: number): { cpu: number; hwmMb: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return {
    cpu: ticks / 100,
    hwmMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN,
    rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
  };
}

/** Sum of every sample of a counter in a Prometheus text exposition. */
function counter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const c = line.charCodeAt(name.length);
    if (c !== 123 /* { */ && c !== 32 /* space */) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The V8 heap and external memory of the process (its default metrics), for the debug trace. */
function heapLine(text: string): string {
  const mb = (name: string) => Math.round(counter(text, name) / 1048576);
  return `heap used ${mb('socstream_nodejs_heap_size_used_bytes')} of ${mb('socstream_nodejs_heap_size_total_bytes')} MB, external ${mb('socstream_nodejs_external_memory_bytes')} MB`;
}

async function metrics(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.ok ? await res.text() : null;
  } catch {
    return null; // not listening yet
  }
}

interface EmbeddedRun {
  fromLaunch: number;
  steady: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  alerts: number;
}

async function runOnce(dir: string, input: string): Promise<EmbeddedRun> {
  const port = await freePort();
  const data = mkdtempSync(join(dir, 'run-'));
  const configPath = join(data, 'socstream.yaml');
  writeFileSync(
    configPath,
    stringify({
      data_dir: data,
      // SOCSTREAM_BENCH_EMBEDDED_BUS / _LAKE='{"key": value}': more bus / lake settings (A/B of a knob).
      bus: { type: 'memory', ...JSON.parse(process.env.SOCSTREAM_BENCH_EMBEDDED_BUS ?? '{}') },
      sources: [{ type: 'file', name: 'gen', paths: [join(input, '*')] }],
      detect: { rules: [RULES] },
      alerts: { console: false },
      lake: {
        dir: join(data, 'lake'),
        flush_interval_seconds: 2,
        compact_interval_seconds: 0,
        ...JSON.parse(process.env.SOCSTREAM_BENCH_EMBEDDED_LAKE ?? '{}'),
      },
      alert_store: { type: 'sqlite' },
      metrics_port: port,
    }),
  );
  const profile = process.env.SOCSTREAM_BENCH_CPU_PROFILE;
  const nodeFlags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  // SOCSTREAM_BENCH_NODE_FLAGS="--flag=value …": node flags for the socstream process (A/B of V8 settings).
  nodeFlags.push(...(process.env.SOCSTREAM_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeFlags, RUN_MAIN, 'run', '--config', configPath, '--role', 'ingest,process,correlate,store'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCSTREAM_'))),
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let low: number | null = null;
  let high: number | null = null;
  let figures = { cpu: 0, hwmMb: 0, rssMb: 0 };
  let alerts = 0;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`socstream run exited (${child.exitCode}): ${stderr}`);
      if (performance.now() - t0 > TIMEOUT_MS)
        throw new Error(`socstream run did not finish in ${TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
      const text = await metrics(port);
      if (text === null) continue;
      const now = performance.now();
      const parsed = counter(text, 'socstream_events_in_total');
      if (low === null && parsed >= 0.2 * EVENTS) low = now;
      if (high === null && parsed >= 0.8 * EVENTS) high = now;
      figures = procFigures(child.pid as number);
      if (process.env.SOCSTREAM_BENCH_DEBUG)
        process.stderr.write(
          `${((now - t0) / 1000).toFixed(1)} s: parsed ${parsed}, in the lake ${counter(text, 'socstream_events_out_total')}, RSS ${Math.round(figures.rssMb)} MB, ${heapLine(text)}\n`,
        );
      if (counter(text, 'socstream_events_out_total') >= EVENTS) {
        alerts = counter(text, 'socstream_alerts_total');
        break;
      }
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const seconds = (performance.now() - t0) / 1000;
  const steadySeconds = ((high ?? Number.NaN) - (low ?? Number.NaN)) / 1000;
  return {
    fromLaunch: EVENTS / seconds,
    steady: (0.6 * EVENTS) / steadySeconds,
    seconds,
    cpuSeconds: figures.cpu,
    peakRssMb: figures.hwmMb,
    alerts,
  };
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-embedded-'));
  try {
    const input = join(dir, 'logs');
    const gen = spawnSync(
      process.execPath,
      [
        MAIN,
        'generate',
        '--scenario',
        'mixed',
        '--count',
        String(EVENTS),
        '--seed',
        '1',
        '--start',
        '2026-01-31T10:00:00Z',
        '--to',
        `file:${input}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (gen.status !== 0) throw new Error(`socstream generate failed: ${gen.stderr}`);
    const r = await runOnce(dir, input);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const note = `${EVENTS} mixed generated events in 13 log files; memory bus, lake + alerts (SQLite); load ${load}`;
    return [
      {
        bench: 'embedded',
        metric: 'files → lake + alerts, memory bus, from launch',
        value: Math.round(r.fromLaunch),
        unit: 'events/s',
        target: { op: '>=', value: 100_000 },
        note: `${r.seconds.toFixed(1)} s from launch to every event in renamed Parquet files; ${r.alerts} alerts raised or updated (socstream_alerts_total); ${note}`,
      },
      {
        bench: 'embedded',
        metric: 'files → lake + alerts, memory bus, steady',
        value: Math.round(r.steady),
        unit: 'events/s',
        note: 'events parsed per second between 20 % and 80 % of the input',
      },
      {
        bench: 'embedded',
        metric: 'CPU per event (the one process, launch included)',
        value: Math.round((r.cpuSeconds * 1e6) / EVENTS),
        unit: 'µs',
        note: `${r.cpuSeconds.toFixed(1)} CPU s (all threads, DuckDB's included)`,
      },
      {
        bench: 'embedded',
        metric: 'peak RSS, embedded run',
        value: Math.round(r.peakRssMb),
        unit: 'MB',
        target: { op: '<=', value: 400 },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
