import { join } from 'node:path';
import type { Command } from 'commander';
import { validateConfig } from '../config/loader.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { onShutdown } from '../core/shutdown.ts';
import { createTelemetry, type Telemetry } from '../core/telemetry.ts';
import type { Alert } from '../detect/alert.ts';
import { healthSnapshot } from '../metrics/health.ts';
import { startRuntime } from '../pipeline/runtime.ts';
import { newToken } from '../roles/serve.ts';
import { action } from './run-action.ts';

/**
 * `socstream demo`: the whole pipeline in one process on the memory bus — the generator's mixed
 * campus traffic with periodic attacks, parse → normalize → enrich → detect, the lake and the
 * SQLite alert store under .data/demo, and the dashboard. Needs nothing but `npm ci`.
 */
export interface DemoOptions {
  port: string;
  host: string;
  duration?: string;
  rate: string;
  seed: string;
  dataDir: string;
  statusSeconds: string;
}

/** `17:52:57Z`: the terminal's times, UTC, named by the Z. */
export function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');

/** The line printed once per new alert (its later updates print nothing). */
export function alertLine(a: Alert, dashboardUrl: string | undefined, nowMs: number): string {
  const entity = a.entity ? ` · ${a.entity}` : '';
  const link = dashboardUrl ? `\n           ${dashboardUrl}/#/alerts/${encodeURIComponent(a.id)}` : '';
  return `${clock(nowMs)}  ALERT ${a.level.toUpperCase()} · ${a.rule_title}${entity} · ${a.summary}${link}\n`;
}

export interface DemoTotals {
  eventsIn: number;
  lakeEvents: number;
  alerts: number;
}

/** The health line every status interval. */
export function healthLine(
  t: DemoTotals & { eventsPerSecond: number; rssMb: number; bufferPct: number; blocked: string[] },
  newAlerts: number,
  nowMs: number,
): string {
  const blocked = t.blocked.length ? ` · BLOCKED: ${t.blocked.join(', ')} (storage full?)` : '';
  return (
    `${clock(nowMs)}  health: ${t.eventsPerSecond.toFixed(0)} events/s · ${n(t.eventsIn)} events in · ` +
    `${n(t.lakeEvents)} in the lake · ${n(t.alerts)} alerts (${newAlerts} new) · ` +
    `rss ${t.rssMb.toFixed(0)} MB · fullest buffer ${t.bufferPct.toFixed(0)}%${blocked}\n`
  );
}

/** The last line: what was processed and flushed before the exit. */
export function stoppedLine(t: DemoTotals, elapsedMs: number, lakeDir: string): string {
  const s = Math.round(elapsedMs / 1000);
  const took = s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  return (
    `socstream demo: stopped after ${took} — ${n(t.eventsIn)} events in, ${n(t.lakeEvents)} flushed to the ` +
    `lake (${lakeDir}), ${n(t.alerts)} alerts raised and stored.\n`
  );
}

async function sumMetric(
  telemetry: Telemetry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = telemetry.registry.getSingleMetric(name);
  if (!metric) return 0;
  let sum = 0;
  for (const v of (await metric.get()).values)
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  return sum;
}

async function totals(telemetry: Telemetry, alerts: number): Promise<DemoTotals> {
  return {
    eventsIn: await sumMetric(telemetry, 'socstream_events_in_total'),
    lakeEvents: await sumMetric(telemetry, 'socstream_events_out_total', { sink: 'lake' }),
    alerts,
  };
}

function positive(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name}: expected a positive number, got "${value}"`);
  return n;
}

export function demoConfig(o: { dataDir: string; rate: number; seed: number; port: number; host: string }) {
  return validateConfig(
    {
      data_dir: o.dataDir,
      sources: [{ type: 'generator', name: 'demo', scenario: 'mixed', rate: o.rate, seed: o.seed }],
      lake: { dir: join(o.dataDir, 'lake'), flush_interval_seconds: 5, flush_event_count: 50_000 },
      alert_store: { type: 'sqlite', sqlite_path: join(o.dataDir, 'socstream.db') },
      dlq: { type: 'file', path: join(o.dataDir, 'dlq.ndjson') },
      detect: { suppression_seconds: 300 },
      serve: { port: o.port, host: o.host },
      topics: { partitions: 2 },
    },
    'socstream demo',
  );
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('embedded all-in-one: generated traffic with attacks, detection, lake, dashboard')
    .option('--port <port>', 'dashboard port', '8080')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--rate <events/s>', 'generated events per second', '300')
    .option('--seed <n>', 'generator seed', '1')
    .option('--data-dir <dir>', 'state: lake, alert store, dead letters', '.data/demo')
    .option('--status-seconds <s>', 'seconds between health lines on the terminal', '30')
    .action(
      action(async (o: DemoOptions) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--port: not a port: ${o.port}`);
        const config = demoConfig({
          dataDir: o.dataDir,
          rate: positive(o.rate, 'rate'),
          seed: Number(o.seed) || 1,
          port,
          host: o.host,
        });
        const logger = createLogger({ level: process.env.SOCSTREAM_LOG_LEVEL ?? 'warn' });
        const telemetry = createTelemetry();
        const token = process.env.SOCSTREAM_DEMO_TOKEN ?? newToken();
        const runtime = await startRuntime({
          config,
          file: 'socstream demo',
          roles: new Set(['ingest', 'process', 'correlate', 'store', 'serve']),
          logger,
          telemetry,
          serve: { extraTokens: [{ name: 'demo', role: 'admin', token }] },
        });
        const statusMs = positive(o.statusSeconds, 'status-seconds') * 1000;
        const startedAt = Date.now();
        process.stderr.write(
          `socstream demo is running\n  dashboard: ${runtime.url}/\n  sign-in token (admin): ${token}\n` +
            `  generating ~${config.sources[0].rate} events/s of campus traffic with periodic attacks\n` +
            `  lake: ${config.lake.dir}   alerts: ${config.alert_store.sqlite_path}\n` +
            `  a line per new alert and a health line every ${statusMs / 1000} s follow (times in UTC)\n` +
            '  Ctrl-C stops it cleanly.\n',
        );
        // The story on the terminal: each alert once, when raised (updates of it print nothing).
        const seen = new Set<string>();
        let newSinceHealth = 0;
        const unsubscribe = runtime.live?.subscribe((item) => {
          if (item.kind !== 'alert' || seen.has(item.data.id)) return;
          seen.add(item.data.id);
          newSinceHealth++;
          process.stderr.write(alertLine(item.data, runtime.url, Date.now()));
        });
        const health = { eventsTotal: 0, atMs: performance.now() };
        const healthTimer = setInterval(() => {
          void (async () => {
            const now = performance.now();
            const snap = await healthSnapshot(telemetry, health, now);
            Object.assign(health, { eventsTotal: snap.events_total, atMs: now });
            const t = await totals(telemetry, seen.size);
            process.stderr.write(
              healthLine(
                {
                  ...t,
                  eventsPerSecond: snap.events_per_s,
                  rssMb: snap.rss_mb,
                  bufferPct: snap.buffer_pct,
                  blocked: snap.blocked_sinks,
                },
                newSinceHealth,
                Date.now(),
              ),
            );
            newSinceHealth = 0;
          })().catch(() => {});
        }, statusMs);
        healthTimer.unref();
        // Ctrl-C / SIGTERM: stop intake, drain, flush, commit, exit within 10 s; a second signal forces.
        const shutdown = onShutdown(
          [
            {
              name: 'say so',
              run: async () =>
                void process.stderr.write('socstream demo: stopping (drain, flush, commit)…\n'),
            },
            {
              name: 'stop pipeline',
              run: async () => {
                clearInterval(healthTimer);
                await runtime.stop();
                unsubscribe?.();
              },
            },
            {
              name: 'say stopped',
              run: async () =>
                void process.stderr.write(
                  stoppedLine(await totals(telemetry, seen.size), Date.now() - startedAt, config.lake.dir),
                ),
            },
          ],
          { logger },
        );
        const durationMs = o.duration ? positive(o.duration, 'duration') * 1000 : undefined;
        const reason = await Promise.race([
          new Promise<string>((r) => durationMs && setTimeout(() => r('duration reached'), durationMs)),
          runtime.failed.then((err) => `role failed: ${err.message}`),
        ]);
        process.stderr.write(`socstream demo: ${reason}\n`);
        await shutdown.trigger(reason);
        return 0;
      }),
    );
}
