import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createBus } from '../bus/create.ts';
import { loadConfig } from '../config/loader.ts';
import type { Config } from '../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import type { Health } from '../core/component.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { onShutdown } from '../core/shutdown.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { topicPlan } from '../pipeline/topics.ts';
import { createServeRole, newToken } from '../roles/serve.ts';
import { tokensFromEnv } from '../serve/auth.ts';
import { action } from './run-action.ts';

/**
 * `socstream serve [--config C] [--lake DIR] [--port P] [--host H]`: the API and dashboard over an
 * existing lake and alert store. The live feed follows the alerts and events topics when the bus is
 * Kafka; with the memory bus there is nothing to follow (no pipeline in this process), so no bus.
 */
interface ServeFlags {
  config?: string;
  lake?: string;
  port?: string;
  host?: string;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: not a port: ${value}`);
  return port;
}

/** The config with the command line's --lake, --port and --host on top. */
export function serveConfig(config: Config, flags: ServeFlags): Config {
  return {
    ...config,
    lake: flags.lake ? { ...config.lake, dir: resolve(flags.lake) } : config.lake,
    serve: {
      ...config.serve,
      port: flags.port === undefined ? config.serve.port : parsePort(flags.port),
      host: flags.host ?? config.serve.host,
    },
  };
}

/** No token in the config nor in SOCSTREAM_TOKEN_*: nobody could sign in, so make one for this run. */
export function needsGeneratedToken(config: Config, env: NodeJS.ProcessEnv): boolean {
  return config.serve.tokens.length === 0 && tokensFromEnv(env).length === 0;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('the HTTP API and dashboard over the lake and the alert store')
    .option('-c, --config <file>', 'socstream.yaml (default: built-in defaults)')
    .option('--lake <dir>', 'the lake directory (overrides lake.dir)')
    .option('--port <port>', 'listen port (overrides serve.port)')
    .option('--host <host>', 'listen address (overrides serve.host)')
    .action(
      action(async (flags: ServeFlags) => {
        const config = serveConfig(loadConfig(flags.config), flags);
        const logger = createLogger({ level: config.log_level });
        const telemetry = createTelemetry();
        telemetry.up.set({ role: 'serve' }, 1);
        const bus: Bus | undefined = config.bus.type === 'kafka' ? createBus(config.bus) : undefined;
        const extraTokens: Array<{ name: string; role: 'admin'; token: string }> = [];
        if (needsGeneratedToken(config, process.env)) {
          extraTokens.push({ name: 'generated', role: 'admin', token: newToken() });
          process.stderr.write(
            'socstream serve: WARNING: no API token configured (serve.tokens or SOCSTREAM_TOKEN_<NAME>=role:token);\n' +
              `  generated an admin token for this run only: ${extraTokens[0].token}\n`,
          );
        }
        const readiness = bus
          ? async (): Promise<Record<string, Health>> => {
              try {
                await bus.listTopics();
                return { kafka: { ok: true } };
              } catch (err) {
                return { kafka: { ok: false, detail: (err as Error).message } };
              }
            }
          : undefined;
        const eventTopics = topicPlan(config, []).eventOutputs;
        const role = createServeRole({
          config,
          bus,
          ctx: { logger, telemetry },
          extraTokens,
          readiness,
          eventTopics,
        });
        const server = await role.start();
        process.stderr.write(
          `socstream serve: ${server.url}/  (lake: ${config.lake.dir}, alert store: ${config.alert_store.type})\n`,
        );
        // Runs until SIGTERM/SIGINT: the listening server keeps the process alive.
        onShutdown(
          [
            { name: 'stop server', run: () => role.stop() },
            { name: 'close bus', run: async () => bus?.close() },
          ],
          { logger },
        );
        return 0;
      }),
    );
}
