/**
 * The real HTTP app (src/serve) as the API benches drive it through fastify inject: one admin
 * token, no rate limit, silent logs, over a given alert store and lake.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { serveSchema } from '../src/config/schema.ts';
import { createTelemetry } from '../src/core/telemetry.ts';
import { buildApp } from '../src/serve/app.ts';
import { createTokenTable } from '../src/serve/auth.ts';
import type { LakeAccess } from '../src/serve/lake-access.ts';
import { createLiveFeed } from '../src/serve/live.ts';
import type { AlertStore } from '../src/sinks/alert-store.ts';

const TOKEN = 'bench-admin-token-0123456789';

export async function benchApi(options: {
  alerts: AlertStore;
  lake: LakeAccess;
  rulePaths?: string[];
}): Promise<{ app: FastifyInstance; headers: Record<string, string> }> {
  const app = await buildApp({
    config: serveSchema.parse({ rate_limit_per_minute: 1_000_000 }),
    tokens: createTokenTable([{ name: 'bench', role: 'admin', token: TOKEN }]),
    alerts: options.alerts,
    lake: options.lake,
    live: createLiveFeed(),
    telemetry: createTelemetry({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    ...(options.rulePaths ? { rulePaths: options.rulePaths } : {}),
  });
  return { app, headers: { authorization: `Bearer ${TOKEN}` } };
}
