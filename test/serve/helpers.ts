/**
 * Test helper: the API over a REAL small lake (Zeek fixture lines written by the lake sink's
 * writer) and a real SQLite alert store, with one token per role and logs kept in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { serveSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { buildApp, type ServeDeps } from '../../src/serve/app.ts';
import { createTokenTable, type Role } from '../../src/serve/auth.ts';
import { type LakeLimits, openLakeAccess } from '../../src/serve/lake-access.ts';
import { createLiveFeed } from '../../src/serve/live.ts';
import { SqliteAlertStore } from '../../src/sinks/alert-store-sqlite.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';

export const TOKENS: Record<Role, string> = {
  viewer: 'viewer-token-0123456789abcdef',
  analyst: 'analyst-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef01',
};

export function bearer(role: Role): { authorization: string } {
  return { authorization: `Bearer ${TOKENS[role]}` };
}

export interface Fixture {
  app: FastifyInstance;
  deps: ServeDeps;
  /** Every log line the app wrote, as text. */
  logs: string[];
  dns: Envelope[];
  ssh: Envelope[];
  alerts: Alert[];
  dir: string;
  close(): Promise<void>;
}

export function alertFor(events: Envelope[], overrides: Partial<Alert> = {}): Alert {
  const times = events.map((e) => Number(e.normalized.event_time));
  const src = String(events[0].normalized.src_ip);
  return {
    id: `alert-${src}-${overrides.rule_id ?? 'ssh-brute'}`,
    rule_id: 'ssh-brute',
    rule_title: 'SSH brute force',
    level: 'high',
    tags: ['attack.t1110'],
    group: { src_ip: src },
    entity: src,
    count: events.length,
    first_seen: Math.min(...times),
    last_seen: Math.max(...times),
    event_ids: events.map((e) => e.id),
    summary: `${events.length} SSH connections from ${src}`,
    status: 'new',
    assignee: null,
    created_at: Date.now(),
    ...overrides,
  };
}

export async function startFixture(
  serve: Record<string, unknown> = {},
  options: {
    webDir?: string;
    now?: number;
    logLevel?: string;
    noReload?: boolean;
    /** deps.rulePaths (GET /api/rules/:id, the alert page's log-type hint). */
    rulePaths?: string[];
    /** deps.searchBudgetMs (GET /api/events' scan budget). */
    searchBudgetMs?: number;
    lakeLimits?: Partial<LakeLimits>;
  } = {},
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-serve-'));
  const now = options.now ?? Date.now();
  // 40 DNS events one per 10 s and 10 SSH events one per 30 s, ending a minute ago.
  const dns = manyEnvelopes('dns', 40, now - 460_000, 10_000, 'serve');
  const ssh = manyEnvelopes('ssh', 10, now - 360_000, 30_000, 'serve');
  await writeLake(join(dir, 'lake'), [dns, ssh]);
  const store = new SqliteAlertStore({ path: join(dir, 'alerts.db') });
  await store.start();
  const alerts = [
    alertFor(ssh.slice(0, 5)),
    alertFor(dns.slice(0, 3), {
      id: 'alert-dns',
      rule_id: 'dns-tunnel',
      rule_title: 'DNS tunnel',
      level: 'medium',
    }),
  ];
  await store.upsert(alerts);
  const lake = await openLakeAccess(join(dir, 'lake'), { refreshMs: 0, limits: options.lakeLimits });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const config = serveSchema.parse({
    body_limit_bytes: 4096,
    query_timeout_ms: 5000,
    query_max_rows: 100,
    ...serve,
  });
  const tokens = createTokenTable(
    (Object.keys(TOKENS) as Role[]).map((role) => ({ name: `${role}-user`, role, token: TOKENS[role] })),
  );
  const deps: ServeDeps = {
    config,
    tokens,
    alerts: store,
    lake,
    live: createLiveFeed({ eventsPerSecond: 1000 }),
    telemetry: createTelemetry({ defaultMetrics: false }),
    logger: createLogger({ level: options.logLevel ?? 'info', destination: sink }),
    webDir: options.webDir,
    rulePaths: options.rulePaths,
    searchBudgetMs: options.searchBudgetMs,
    // The bundled pack, loaded for real: what the runtime's reload does for its roles.
    reloadRules: options.noReload
      ? undefined
      : async () => {
          const set = loadRules(['rules']);
          return {
            rules: set.rules.length,
            correlations: set.correlations.length,
            problems: set.problems.length,
          };
        },
  };
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    logs,
    dns,
    ssh,
    alerts,
    dir,
    async close() {
      await app.close();
      await store.close();
      lake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
