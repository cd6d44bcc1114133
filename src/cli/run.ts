import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { onShutdown } from '../core/shutdown.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { startMetricsServer } from '../metrics/metrics-server.ts';
import { ROLE_NAMES, type RoleName, startRuntime } from '../pipeline/runtime.ts';
import { holdStopSignals, releaseStopSignals } from './early-signals.ts';
import { action } from './run-action.ts';

/**
 * `socstream run --config socstream.yaml [--role R ...]`: the pipeline as configured. With the
 * Kafka bus each role can run in its own process (and as many processes as the topics have
 * partitions); `all` runs every role here. Headless roles expose /metrics on `metrics_port`.
 */
export function parseRoles(values: readonly string[]): Set<RoleName> {
  const roles = new Set<RoleName>();
  for (const v of values.flatMap((x) => x.split(','))) {
    if (v === 'all') for (const r of ROLE_NAMES) roles.add(r);
    else if ((ROLE_NAMES as readonly string[]).includes(v)) roles.add(v as RoleName);
    else throw new UsageError(`--role: unknown role "${v}"; use one of: all, ${ROLE_NAMES.join(', ')}`);
  }
  return roles;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the pipeline as configured (all roles, or the ones named)')
    .requiredOption('-c, --config <file>', 'socstream.yaml')
    .option('-r, --role <role...>', `all | ${ROLE_NAMES.join(' | ')} (repeatable or comma-separated)`, [
      'all',
    ])
    .option('--shutdown-timeout <ms>', 'bound for draining on SIGTERM', '10000')
    .action(
      action(async (o: { config: string; role: string[]; shutdownTimeout: string }) => {
        // Usually held already by main.ts, before the modules loaded (early-signals.ts).
        holdStopSignals();
        const roles = parseRoles(o.role);
        const config = loadConfig(o.config);
        const logger = createLogger({ level: config.log_level });
        const telemetry = createTelemetry();
        for (const r of roles) telemetry.up.set({ role: r }, 1);
        let runtime: Awaited<ReturnType<typeof startRuntime>>;
        try {
          runtime = await startRuntime({ config, file: o.config, roles, logger, telemetry });
        } catch (err) {
          releaseStopSignals();
          throw err;
        }
        const metrics =
          !roles.has('serve') && config.metrics_port !== undefined
            ? await startMetricsServer(telemetry, config.metrics_port)
            : undefined;
        logger.info({ roles: [...roles], bus: config.bus.type, url: runtime.url }, 'socstream running');
        const shutdown = onShutdown(
          [
            { name: 'stop roles', run: () => runtime.stop() },
            { name: 'close metrics', run: async () => metrics?.close() },
          ],
          { logger, timeoutMs: Number(o.shutdownTimeout) || 10_000 },
        );
        const earlySignal = releaseStopSignals();
        if (earlySignal) await shutdown.trigger(`${earlySignal} during start-up`);
        const reason = await Promise.race([
          runtime.failed.then((err) => `role failed: ${err.message}`),
          // Finite inputs (stdin, a generator with a count) end; then everything is drained and we exit.
          runtime.sourcesEnded.then(() => 'every source ended'),
        ]);
        await shutdown.trigger(reason);
        return reason.startsWith('role failed') ? 1 : 0;
      }),
    );
}
