/**
 * The soak harness (issue 9): `socstream run --role ingest,process,correlate,store` — the whole
 * pipeline in one process, the issue-8 "main process" — on a private broker, fed by its own
 * generator source at a steady wall-clock rate with attacks in it, for a fixed duration. Every
 * `sampleMs` it samples the process's RSS (/proc) and scrapes its /metrics (events in, lake rows
 * out, correlation groups and evictions, alerts, consumer lag). Used by the short form
 * (test/integration/reliability-soak.test.ts, `npm test`) and the 10-minute form
 * (test/reliability/soak.test.ts, `npm run test:reliability`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { type PrivateBroker, rssBytes, topicNames, unique } from './reliability.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface SoakOptions {
  durationMs: number;
  /** Generator events per second (wall clock). */
  rate: number;
  sampleMs: number;
  /** detect.max_groups_per_rule: small enough that eviction has to work. */
  maxGroupsPerRule: number;
  /** Event time between attack starts (generator `attack_every_seconds`). */
  attackEverySeconds: number;
  /** Extra `lake` settings. */
  lake?: Record<string, unknown>;
}

export interface SoakSample {
  atS: number;
  rssMb: number;
  eventsIn: number;
  lakeRows: number;
  /** Largest socstream_correlation_groups of any rule. */
  maxGroups: number;
  evictions: number;
  alerts: number;
  lag: number;
}

export interface SoakFigures {
  durationS: number;
  rate: number;
  samples: SoakSample[];
  firstThirdMeanMb: number;
  lastThirdMeanMb: number;
  peakRssMb: number;
  eventsIn: number;
  lakeRows: number;
  maxGroups: number;
  evictions: number;
  alerts: number;
  finalLag: number;
  /** The run was still up when the soak ended (it did not crash or stop by itself). */
  aliveAtEnd: boolean;
  /** Exit code after SIGTERM (1 when the drain did not finish within the 10 s shutdown bound). */
  exitCode: number | null;
  log: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sums of each metric family (and the largest value, for gauges per rule) from Prometheus text. */
export function parseMetrics(text: string): Map<string, { sum: number; max: number }> {
  const out = new Map<string, { sum: number; max: number }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (!Number.isFinite(value)) continue;
    const entry = out.get(m[1] as string) ?? { sum: 0, max: Number.NEGATIVE_INFINITY };
    entry.sum += value;
    entry.max = Math.max(entry.max, value);
    out.set(m[1] as string, entry);
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCSTREAM_')));
}

/** Runs the soak and returns its figures; the caller asserts. */
export async function runSoak(broker: PrivateBroker, options: SoakOptions): Promise<SoakFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-soak-'));
  const p = unique('soak');
  const metricsPort = await freePort();
  const config = {
    data_dir: dir,
    log_level: 'info',
    metrics_port: metricsPort,
    bus: { type: 'kafka', kafka: { brokers: [broker.brokers], retries: 100, connect_timeout_ms: 5000 } },
    topics: topicNames(p, 3),
    sources: [
      {
        type: 'generator',
        scenario: 'mixed',
        rate: options.rate,
        attack_every_seconds: options.attackEverySeconds,
        seed: 7,
      },
    ],
    lake: { dir: join(dir, 'lake'), ...options.lake },
    alert_store: { sqlite_path: join(dir, 'alerts.db') },
    dlq: { path: join(dir, 'dlq.ndjson') },
    detect: { max_groups_per_rule: options.maxGroupsPerRule },
  };
  const configPath = join(dir, 'socstream.yaml');
  writeFileSync(configPath, stringify(config));
  const logPath = join(dir, 'run.log');
  const fd = openSync(logPath, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, 'run', '--config', configPath, '--role', 'ingest,process,correlate,store'],
    { stdio: ['ignore', fd, fd], env: childEnv() },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  let aliveAtEnd = false;
  try {
    while (Date.now() - t0 < options.durationMs) {
      await sleep(options.sampleMs);
      if (exitCode !== undefined) break;
      let text = '';
      try {
        text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      } catch {
        // Not listening yet (the roles subscribe first): the sample keeps RSS only.
      }
      const metrics = parseMetrics(text);
      const get = (name: string) => metrics.get(name)?.sum ?? 0;
      let lakeRows = 0;
      for (const line of text.split('\n'))
        if (line.startsWith('socstream_events_out_total{sink="lake"'))
          lakeRows += Number(line.split(' ').at(-1));
      samples.push({
        atS: Math.round((Date.now() - t0) / 1000),
        rssMb: Math.round(rssBytes(child.pid) / 1048576),
        eventsIn: get('socstream_events_in_total'),
        lakeRows,
        maxGroups: Math.max(0, metrics.get('socstream_correlation_groups')?.max ?? 0),
        evictions: get('socstream_correlation_evictions_total'),
        alerts: get('socstream_alerts_total'),
        lag: get('socstream_consumer_lag'),
      });
    }
    aliveAtEnd = exitCode === undefined;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (exitCode === undefined) child.kill('SIGKILL');
  }
  const log = readFileSync(logPath, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const rss = samples.map((s) => s.rssMb).filter((x) => x > 0);
  const third = Math.max(1, Math.floor(rss.length / 3));
  const last = samples.at(-1);
  return {
    durationS: Math.round((Date.now() - t0) / 1000),
    rate: options.rate,
    samples,
    firstThirdMeanMb: Math.round(mean(rss.slice(0, third))),
    lastThirdMeanMb: Math.round(mean(rss.slice(-third))),
    peakRssMb: Math.max(0, ...rss),
    eventsIn: last?.eventsIn ?? 0,
    lakeRows: last?.lakeRows ?? 0,
    maxGroups: Math.max(0, ...samples.map((s) => s.maxGroups)),
    evictions: last?.evictions ?? 0,
    alerts: last?.alerts ?? 0,
    finalLag: last?.lag ?? 0,
    aliveAtEnd,
    exitCode: exitCode ?? null,
    log: log.slice(-4000),
  };
}

export function formatSoak(name: string, f: SoakFigures): string {
  const rss = f.samples.map((s) => s.rssMb);
  return (
    `${name}: ${f.durationS} s at ${f.rate} events/s; ${f.eventsIn} events in, ${f.lakeRows} lake rows; ` +
    `RSS first-third mean ${f.firstThirdMeanMb} MB, last-third mean ${f.lastThirdMeanMb} MB, peak ` +
    `${f.peakRssMb} MB (${rss.length} samples: ${rss.join(' ')}); max correlation groups per rule ` +
    `${f.maxGroups}, evictions ${f.evictions}, alerts ${f.alerts}, final lag ${f.finalLag}, ` +
    `exit code after SIGTERM ${f.exitCode}\n`
  );
}
