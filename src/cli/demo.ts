import { join } from 'node:path';
import type { Command } from 'commander';
import { validateConfig } from '../config/loader.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { onShutdown } from '../core/shutdown.ts';
import { createTelemetry } from '../metrics/telemetry.ts';
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
        process.stderr.write(
          `socstream demo is running\n  dashboard: ${runtime.url}/\n  sign-in token (admin): ${token}\n` +
            `  generating ~${config.sources[0].rate} events/s of campus traffic with periodic attacks\n` +
            `  lake: ${config.lake.dir}   alerts: ${config.alert_store.sqlite_path}\n  Ctrl-C stops it cleanly.\n`,
        );
        // Ctrl-C / SIGTERM: stop intake, drain, flush, commit, exit within 10 s; a second signal forces.
        const shutdown = onShutdown(
          [
            {
              name: 'say so',
              run: async () =>
                void process.stderr.write('socstream demo: stopping (drain, flush, commit)…\n'),
            },
            { name: 'stop pipeline', run: () => runtime.stop() },
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
