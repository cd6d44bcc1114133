import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createAlertStore } from '../components.ts';
import type { Config } from '../config/schema.ts';
import type { Bus, Subscription } from '../core/bus.ts';
import type { ComponentContext, Health } from '../core/component.ts';
import type { Envelope } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { lakeLagCheck } from '../lake/compactor.ts';
import { createTokenTable, type TokenTable } from '../serve/auth.ts';
import { type LakeAccess, openLakeAccess } from '../serve/lake-access.ts';
import { createLiveFeed, type LiveFeed } from '../serve/live.ts';
import { type RunningServer, startServer } from '../serve/server.ts';
import type { AlertStore } from '../sinks/alert-store.ts';
import { decodeJson } from './codec.ts';

/**
 * The serve role: the API and dashboard over the lake and the alert store, with a live feed fed
 * from the alerts topic and the events (a process role in the same process, or event topics). Its consumer groups are its own and start at the end: the
 * feed shows what happens from now on, and never holds back the pipeline's groups.
 */
export interface ServeRoleOptions {
  config: Config;
  bus?: Bus;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  host?: string;
  port?: number;
  /** Tokens on top of the configured ones (the demo's printed token). */
  extraTokens?: Array<{ name: string; role: 'viewer' | 'analyst' | 'admin'; token: string }>;
  readiness?: () => Promise<Record<string, Health>>;
  /**
   * Advisory /readyz checks (reported, never failing readiness). Default: the lake's compaction
   * lag from its inventory (the compactor runs in the processes that write the lake).
   */
  advisories?: () => Promise<Record<string, Health>>;
  /** Reloads the rules of the roles in this process (POST /api/rules/reload). */
  reloadRules?: () => Promise<RuleReloadResult>;
  webDir?: string;
  /**
   * Event topics the live tail follows: the event outputs of a process role running elsewhere
   * (routes, class topics). A process role in this process feeds `live` directly instead.
   */
  eventTopics?: readonly string[];
}

export interface RuleReloadResult {
  rules: number;
  correlations: number;
  problems: number;
}

export interface ServeRole {
  start(): Promise<RunningServer>;
  live: LiveFeed;
  stop(): Promise<void>;
}

export const DEFAULT_WEB_DIR = resolve(import.meta.dirname, '../../dist/web');

/** Issue 16: readiness says when the lake's compaction falls behind (advisory, see app.ts). */
function lakeAdvisories(dir: string): () => Promise<Record<string, Health>> {
  const check = lakeLagCheck(dir);
  return async () => ({ lake_compaction: await check() });
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function createServeRole(options: ServeRoleOptions): ServeRole {
  const { config } = options;
  const live = createLiveFeed();
  const subscriptions: Subscription[] = [];
  let server: RunningServer | undefined;
  let store: AlertStore | undefined;
  let lake: LakeAccess | undefined;

  async function follow(topics: string[], onBatch: (values: unknown[]) => void): Promise<void> {
    if (!options.bus) return;
    const sub = await options.bus.subscribe({
      group: `socstream-serve-${process.pid}-${newToken().slice(0, 8)}`,
      topics,
      from: 'latest',
    });
    subscriptions.push(sub);
    void (async () => {
      for await (const batch of sub) {
        const values: unknown[] = [];
        for (const r of batch.records) {
          try {
            values.push(decodeJson(r));
          } catch {
            // The feed is best effort; the store role counts bad records.
          }
        }
        onBatch(values);
        await sub.commit(batch);
      }
    })().catch((err) => options.ctx.logger.warn({ err }, 'live feed consumer stopped'));
  }

  return {
    live,
    async start() {
      store = createAlertStore(config.alert_store, config.data_dir);
      await store.start();
      // Issue 16: the API's query limits (pools, memory, threads) from serve.*.
      const sv = config.serve;
      lake = await openLakeAccess(config.lake.dir, {
        limits: {
          memoryLimitMb: sv.query_memory_limit_mb,
          ...(sv.query_threads > 0 ? { threads: sv.query_threads } : {}),
          viewerConcurrency: sv.query_concurrency,
          viewerQueue: sv.query_queue,
          sqlConcurrency: sv.sql_concurrency,
          sqlQueue: sv.sql_queue,
        },
        onReject: (pool, reason) => options.ctx.telemetry.queryRejected.inc({ pool, reason }),
      });
      const tokens: TokenTable = createTokenTable(
        [
          ...config.serve.tokens,
          ...(options.extraTokens ?? []).map((t) => ({ name: t.name, role: t.role, token: t.token })),
        ],
        process.env,
      );
      const { topics } = config;
      await follow([topics.alerts], (values) => {
        for (const a of values) live.publishAlert(a as Alert);
      });
      if (options.eventTopics?.length)
        await follow([...options.eventTopics], (values) => live.publishEvents(values as Envelope[]));
      const webDir = options.webDir ?? DEFAULT_WEB_DIR;
      server = await startServer(
        {
          config: config.serve,
          tokens,
          alerts: store,
          lake,
          live,
          telemetry: options.ctx.telemetry,
          logger: options.ctx.logger,
          readiness: options.readiness,
          advisories: options.advisories ?? lakeAdvisories(config.lake.dir),
          reloadRules: options.reloadRules,
          webDir: existsSync(webDir) ? webDir : undefined,
          rulePaths: config.detect.rules,
        },
        options.host ?? config.serve.host,
        options.port ?? config.serve.port,
      );
      return server;
    },
    async stop() {
      for (const s of subscriptions) await s.close();
      await server?.close();
      await store?.close();
      lake?.close();
    },
  };
}
