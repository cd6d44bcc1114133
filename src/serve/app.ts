import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { Health } from '../core/component.ts';
import {
  InvalidTransitionError,
  NotFoundError,
  QueryRejectedError,
  SocError,
  UsageError,
} from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { ALERT_STATUSES, type Alert, LEVELS } from '../detect/alert.ts';
import { QueryBusyError } from '../lake/query-pool.ts';
import {
  ALERT_SORT_KEYS,
  type AlertSortKey,
  type AlertStore,
  SORT_ORDERS,
  type SortOrder,
} from '../sinks/alert-store.ts';
import { createRuleLogTypesCache } from './alert-log-types.ts';
import { registerAnalystRoutes } from './analyst-routes.ts';
import { type Principal, type Role, roleAllows, type TokenTable } from './auth.ts';
import { registerEventFields } from './event-fields.ts';
import type { LakeAccess } from './lake-access.ts';
import {
  alertEventRowsSql,
  decodeEventCursor,
  EVENT_FILTER_PROPERTIES,
  EVENT_ORDERS,
  type EventFilterQuery,
  type EventOrder,
  encodeEventCursor,
  eventCursorProblem,
  eventsSqlFrom,
  pageAlertEvents,
  searchWindows,
  windowSpan,
} from './lake-sql.ts';
import type { LiveFeed, LiveItem } from './live.ts';
import { buildOpenApi, type RouteDoc } from './openapi.ts';

/**
 * The HTTP API and the dashboard's static files. `buildApp` wires routes without listening, so
 * tests drive it with `app.inject()`; `startServer` (server.ts) listens.
 */
export interface ServeDeps {
  config: Config['serve'];
  tokens: TokenTable;
  alerts: AlertStore;
  lake: LakeAccess;
  live: LiveFeed;
  telemetry: Telemetry;
  logger: Logger;
  /** Named dependency checks for /readyz (Kafka, alert store, lake). */
  readiness?: () => Promise<Record<string, Health>>;
  /**
   * Checks /readyz reports without failing (the lake's compaction lag): not ok makes the answer
   * `degraded` with `warnings`, still 200 — a lake that is behind is slower, not unavailable.
   */
  advisories?: () => Promise<Record<string, Health>>;
  /** Reloads the detection rules of the roles in this process; absent: the route answers 501. */
  reloadRules?: () => Promise<{ rules: number; correlations: number; problems: number }>;
  /** The built dashboard (index.html + assets); absent: / answers 404 with a hint. */
  webDir?: string;
  /** Where the Sigma rules are (detect.rules), for GET /api/rules/:id; absent: that route answers 404. */
  rulePaths?: readonly string[];
  /** GET /api/events' scan budget, ms (default SEARCH_BUDGET_MS; tests set 0). */
  searchBudgetMs?: number;
}

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Least role a route needs; undefined: public. */
    role?: Role;
  }
}

const MAX_EVENT_LIMIT = 500;
const SSE_HEARTBEAT_MS = 15_000;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Epoch ms from a query value: a number of ms or an ISO 8601 string. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n))
    throw new UsageError(`${name}: expected epoch milliseconds or ISO 8601, got "${value}"`);
  return n;
}

/** A query key as a server would read it: percent-decoded, `+` as space, lower-cased. */
function decodedKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return key.toLowerCase();
  }
}

/**
 * A URL with the value of every query parameter that names the token replaced, for logs: in any
 * encoding (`%74oken`, `TOKEN`, `to%6Ben`), since the query-string parser decodes keys before the
 * stream reads `token`.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      return decodedKey(key).trim() === 'token' ? `${key}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${redacted}${hash < 0 ? '' : url.slice(hash)}`;
}

function requestForLog(req: { method: string; url: string; ip?: string }) {
  return { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip };
}

function statusOf(err: unknown): number {
  if (err instanceof QueryBusyError) return 429;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidTransitionError) return 409;
  if (err instanceof QueryRejectedError) return 400;
  if (err instanceof UsageError) return 400;
  return 500;
}

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' } },
} as const;

export async function buildApp(deps: ServeDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const app = Fastify({
    // The stream takes ?token= (EventSource sends no headers): request logs show the URL without it.
    loggerInstance: logger.child({ component: 'serve' }, { serializers: { req: requestForLog } }),
    bodyLimit: config.body_limit_bytes,
    trustProxy: false,
    // Fastify's default strips unknown properties; a misspelled filter (`srcip=`) would then
    // silently match everything. Refuse it instead (400).
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/') || ['/healthz', '/readyz', '/metrics'].includes(r.url)) {
      for (const method of [r.method].flat()) {
        if (method !== 'HEAD')
          routes.push({ method, url: r.url, schema: r.schema as RouteDoc['schema'], role: r.config?.role });
      }
    }
  });
  app.decorateRequest('principal', null);

  // Before authentication and per client address (docs/api.md): wrong or missing tokens count
  // too, so guessing tokens is as limited as using one.
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: config.rate_limit_per_minute,
    timeWindow: 60_000,
    keyGenerator: (req) => req.ip,
    allowList: (req) => !req.url.startsWith('/api/'),
  });

  app.addHook('onRequest', async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    applyCors(req, reply, config.cors_origins);
    if (req.method === 'OPTIONS') return reply.code(204).send();
  });

  // Authentication runs in preParsing: after every onRequest hook, the rate limiter's included
  // (fastify runs a route's own onRequest hooks after the app's), before the body is parsed.
  app.addHook('preParsing', async (req, reply, payload) => {
    const needed = req.routeOptions.config?.role;
    if (!needed) return payload;
    // EventSource cannot send headers: the stream also takes ?token=.
    const queryToken =
      req.routeOptions.url === '/api/stream' ? (req.query as { token?: string }).token : undefined;
    const principal = deps.tokens.authenticate(
      req.headers.authorization ?? (queryToken ? `Bearer ${queryToken}` : undefined),
    );
    if (!principal) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'missing or unknown token', code: 'SOC_UNAUTHORIZED' });
    }
    if (!roleAllows(principal.role, needed)) {
      return reply.code(403).send({
        error: `this needs the ${needed} role; your token is ${principal.role}`,
        code: 'SOC_FORBIDDEN',
      });
    }
    req.principal = principal;
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.telemetry.httpRequests.inc({
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  app.setErrorHandler((err, _req, reply) => {
    const e = err as { statusCode?: number; code?: string; validation?: unknown; message: string };
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ error: `body larger than ${config.body_limit_bytes} bytes`, code: 'SOC_USAGE' });
    }
    if (e.statusCode === 429) return reply.code(429).send({ error: e.message, code: 'SOC_RATE_LIMITED' });
    if (err instanceof QueryBusyError) {
      return reply.code(429).header('retry-after', '1').send({ error: e.message, code: 'SOC_RATE_LIMITED' });
    }
    if (e.validation) return reply.code(400).send({ error: e.message, code: 'SOC_USAGE' });
    const status = e.statusCode && e.statusCode < 500 ? e.statusCode : statusOf(err);
    if (status >= 500) app.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .send({ error: e.message, code: err instanceof SocError ? err.code : 'SOC_INTERNAL' });
  });

  registerHealth(app, deps);
  registerEvents(app, deps);
  registerEventFields(app, deps, parseTime);
  registerAlerts(app, deps);
  registerStats(app, deps);
  registerStream(app, deps);
  registerQuery(app, deps);
  registerRuleReload(app, deps);
  registerAnalystRoutes(app, deps);
  app.get(
    '/api/me',
    {
      config: { role: 'viewer' },
      schema: { summary: "The token's name and role (the dashboard's sign-in)" },
    },
    async (req) => ({ name: req.principal?.name, role: req.principal?.role }),
  );
  app.get('/api/openapi.json', { config: { role: 'viewer' } }, async () => buildOpenApi(routes));
  registerStatic(app, deps.webDir);
  return app;
}

function applyCors(req: FastifyRequest, reply: FastifyReply, origins: readonly string[]): void {
  const origin = req.headers.origin;
  if (!origin || origins.length === 0 || !(origins.includes(origin) || origins.includes('*'))) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-allow-headers', 'authorization, content-type, last-event-id');
  reply.header('access-control-allow-methods', 'GET, POST, PATCH, OPTIONS');
}

function registerHealth(app: FastifyInstance, deps: ServeDeps): void {
  app.get('/healthz', { schema: { summary: 'The process is up' } }, async () => ({ ok: true }));
  app.get(
    '/readyz',
    { schema: { summary: 'Dependencies reachable: alert store, lake, Kafka' } },
    async (_req, reply) => {
      const checks: Record<string, Health> = {
        alert_store: await deps.alerts.healthcheck(),
        lake: await deps.lake.healthcheck(),
        ...(deps.readiness ? await deps.readiness() : {}),
      };
      const ok = Object.values(checks).every((c) => c.ok);
      const advisory = deps.advisories ? await deps.advisories() : {};
      const warnings = Object.entries(advisory)
        .filter(([, c]) => !c.ok)
        .map(([name, c]) => `${name}: ${c.detail ?? 'not ok'}`);
      return reply.code(ok ? 200 : 503).send({
        ok,
        ...(warnings.length > 0 ? { degraded: true, warnings } : {}),
        checks: { ...checks, ...advisory },
      });
    },
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', deps.telemetry.registry.contentType);
    return deps.telemetry.registry.metrics();
  });
}

interface EventsQuery extends EventFilterQuery {
  limit?: number;
  cursor?: string;
  order?: EventOrder;
}

function rowsToObjects(result: {
  columns: { name: string }[];
  rows: unknown[][];
}): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

function registerEvents(app: FastifyInstance, deps: ServeDeps): void {
  app.get<{ Querystring: EventsQuery }>(
    '/api/events',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Events from the lake by event time (newest first unless order=asc), with cursor pagination',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...EVENT_FILTER_PROPERTIES,
            limit: { type: 'integer', minimum: 1, maximum: MAX_EVENT_LIMIT, default: 100 },
            cursor: {
              type: 'string',
              maxLength: 512,
              description: 'next_cursor of the previous page, same order',
            },
            order: {
              type: 'string',
              enum: [...EVENT_ORDERS],
              description: 'by event time: desc (default, newest first) or asc',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array' },
              next_cursor: { type: ['string', 'null'] },
              partial: { type: 'boolean' },
              searched_to: { type: 'number' },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const order = q.order ?? 'desc';
      const problem = q.cursor ? eventCursorProblem(q.cursor, order) : null;
      if (problem) throw new UsageError(problem);
      const view = q.log_type ?? 'events';
      const views = await deps.lake.views();
      if (!views.includes(view)) {
        if (view === 'events') return { events: [], next_cursor: null };
        throw new UsageError(`log_type "${q.log_type}" has no data; known: ${views.join(', ')}`);
      }
      const limit = q.limit ?? 100;
      const filter = {
        from: parseTime(q.from, 'from'),
        to: parseTime(q.to, 'to'),
        src_ip: q.src_ip,
        dst_ip: q.dst_ip,
        user: q.user,
        q: q.q,
        cursor: q.cursor,
        order,
      };
      // Window after window in the listing's order until the page (and one more row) is full:
      // a day's first page reads the newest hour's files, not the day's (lake-sql.ts searchWindows),
      // each window over the files listed in its hours, not a glob of the whole lake.
      const windows = searchWindows({
        ...filter,
        cursorT: q.cursor ? decodeEventCursor(q.cursor)?.t : undefined,
        now: Date.now(),
      });
      const started = performance.now();
      const deadline = started + deps.config.query_timeout_ms;
      const budget = deps.searchBudgetMs ?? SEARCH_BUDGET_MS;
      const events: Record<string, unknown>[] = [];
      let searchedTo: number | undefined;
      for (const [i, window] of windows.entries()) {
        const need = limit + 1 - events.length;
        if (need <= 0) break;
        // The scan budget: a page still not full after it (a rare text match over a week) answers
        // what it has, `partial`, with a cursor that continues at the boundary of the windows read.
        const boundary = order === 'desc' ? window.upTo : window.after;
        if (i > 0 && boundary !== undefined && performance.now() - started > budget) {
          searchedTo = boundary;
          break;
        }
        const page = { ...filter, limit: need - 1 };
        const span = { ...windowSpan(page, window), logType: q.log_type };
        events.push(
          ...rowsToObjects(
            await deps.lake.queryFiles(span, (source) => eventsSqlFrom(page, source, window), {
              deadline,
              timeoutMs: deps.config.query_timeout_ms,
              maxRows: need,
            }),
          ),
        );
      }
      const more = events.length > limit;
      if (more) events.length = limit;
      const last = events[events.length - 1];
      if (!more && searchedTo !== undefined)
        return {
          events,
          next_cursor: encodeEventCursor(searchedTo, BOUNDARY_ID, order),
          partial: true,
          searched_to: searchedTo,
        };
      return {
        events,
        next_cursor: more && last ? encodeEventCursor(Number(last.event_time), String(last.id), order) : null,
      };
    },
  );
}

/** How long GET /api/events reads window after window before answering a page that is not full. */
export const SEARCH_BUDGET_MS = 3000;

/**
 * The id of a cursor at a window boundary (no row there): above every event id (base64url), so the
 * next page continues with every event at the boundary time a newest-first search has not read
 * (windows are (after, upTo]) and none an oldest-first one has.
 */
const BOUNDARY_ID = '\uffff';

/** Related events per page of the alert detail (the first page comes with GET /api/alerts/:id). */
const ALERT_EVENTS_PAGE = 100;

/**
 * One page of the alert's kept events found in the lake, oldest first; only the hour partitions of
 * the alert's [first_seen, last_seen] are read, and first only the files of the log types its rule
 * can see (ruleLogTypes: a hint). The other log types' files are read only when some kept id was
 * not found there (ids are unique to an event, so an id found needs no other file): the rows are
 * the same as a read of every log type's files, at a fraction of the bytes (over the 50 M-event
 * week, ssh's files are ~1 % of an hour's).
 */
async function alertEventsPage(
  deps: ServeDeps,
  logTypesOf: (ruleId: string) => string[] | null,
  alert: Alert,
  limit: number,
  cursor: string | undefined,
): Promise<{ events: Record<string, unknown>[]; next_cursor: string | null }> {
  if (cursor) {
    const problem = eventCursorProblem(cursor, 'asc');
    if (problem) throw new UsageError(problem);
  }
  if (alert.event_ids.length === 0 || !(await deps.lake.views()).includes('events'))
    return { events: [], next_cursor: null };
  const rows = await alertEventRows(deps, logTypesOf(alert.rule_id), alert, cursor);
  const { events, more } = pageAlertEvents(rows, limit, cursor);
  const last = events[events.length - 1];
  return {
    events,
    next_cursor: more && last ? encodeEventCursor(Number(last.event_time), String(last.id), 'asc') : null,
  };
}

/** The rows of the alert's kept ids (see alertEventsPage); with a cursor, at least those after it. */
async function alertEventRows(
  deps: ServeDeps,
  hinted: string[] | null,
  alert: Alert,
  cursor: string | undefined,
): Promise<Record<string, unknown>[]> {
  const opts = { timeoutMs: deps.config.query_timeout_ms };
  const span = { from: alert.first_seen, to: alert.last_seen };
  const read = async (files: { logTypes?: string[]; exceptLogTypes?: string[]; from: number }) =>
    rowsToObjects(
      await deps.lake.queryFiles(
        { ...files, to: span.to },
        (source) => alertEventRowsSql(alert.event_ids, { from: files.from, to: span.to }, source),
        opts,
      ),
    );
  // Hours before the cursor's are not needed by this page (rows there sort before it).
  const after = cursor ? decodeEventCursor(cursor)?.t : undefined;
  const from = Math.max(span.from, after ?? span.from);
  if (!hinted) return read({ from });
  // The hinted log types over the whole span, so that every id found is known; then the rest.
  const rows = await read({ logTypes: hinted, from: span.from });
  const found = new Set(rows.map((r) => String(r.id)));
  if (alert.event_ids.every((id) => found.has(id))) return rows;
  return [...rows, ...(await read({ exceptLogTypes: hinted, from }))];
}

interface AlertsQuery {
  status?: string;
  level?: string;
  rule_id?: string;
  entity?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
  sort?: AlertSortKey;
  order?: SortOrder;
}

function registerAlerts(app: FastifyInstance, deps: ServeDeps): void {
  const logTypesOf = createRuleLogTypesCache(deps.rulePaths);
  app.get<{ Querystring: AlertsQuery }>(
    '/api/alerts',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          'Alerts, filtered, sorted over the whole result (default newest last_seen first) and paginated',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', description: `comma-separated: ${ALERT_STATUSES.join(', ')}` },
            level: { type: 'string', description: `comma-separated: ${LEVELS.join(', ')}` },
            rule_id: { type: 'string', maxLength: 256 },
            entity: { type: 'string', maxLength: 256 },
            from: { type: 'string' },
            to: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            cursor: {
              type: 'string',
              maxLength: 512,
              description: 'next_cursor of the previous page, same sort',
            },
            sort: {
              type: 'string',
              enum: [...ALERT_SORT_KEYS],
              description: 'last_seen (default), first_seen, level (by severity) or count',
            },
            order: { type: 'string', enum: [...SORT_ORDERS], description: 'desc (default) or asc' },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const list = <T extends string>(
        v: string | undefined,
        allowed: readonly T[],
        name: string,
      ): T[] | undefined => {
        if (!v) return undefined;
        const items = v.split(',').filter(Boolean) as T[];
        for (const i of items)
          if (!allowed.includes(i)) throw new UsageError(`${name}: unknown value "${i}"`);
        return items;
      };
      return deps.alerts.list({
        status: list(q.status, ALERT_STATUSES, 'status'),
        level: list(q.level, LEVELS, 'level'),
        rule_id: q.rule_id,
        entity: q.entity,
        from: parseTime(q.from, 'from'),
        to: parseTime(q.to, 'to'),
        limit: q.limit,
        cursor: q.cursor ?? null,
        sort: q.sort,
        order: q.order,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/alerts/:id',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          'One alert with its history and the first page of its events from the lake (events_next_cursor: GET /api/alerts/:id/events)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
      },
    },
    async (req) => {
      const alert = await deps.alerts.get(req.params.id);
      if (!alert) throw new NotFoundError(`no alert ${req.params.id}`);
      const history = await deps.alerts.history(alert.id);
      const first = await alertEventsPage(deps, logTypesOf, alert, ALERT_EVENTS_PAGE, undefined);
      return { alert, history, events: first.events, events_next_cursor: first.next_cursor };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/api/alerts/:id/events',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          "The alert's events from the lake, oldest first, paged by cursor; reads only the hours of the alert's span",
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_EVENT_LIMIT, default: ALERT_EVENTS_PAGE },
            cursor: { type: 'string', maxLength: 512 },
          },
        },
      },
    },
    async (req) => {
      const alert = await deps.alerts.get(req.params.id);
      if (!alert) throw new NotFoundError(`no alert ${req.params.id}`);
      return alertEventsPage(deps, logTypesOf, alert, req.query.limit ?? ALERT_EVENTS_PAGE, req.query.cursor);
    },
  );

  app.patch<{
    Params: { id: string };
    Body: { status?: Alert['status']; assignee?: string | null; note?: string };
  }>(
    '/api/alerts/:id',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'Triage: change status, assign, add a note (analyst or admin)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            status: { type: 'string', enum: [...ALERT_STATUSES] },
            assignee: { type: ['string', 'null'], maxLength: 128 },
            note: { type: 'string', minLength: 1, maxLength: 4000 },
          },
        },
      },
    },
    async (req) => {
      const actor = req.principal?.name ?? 'unknown';
      const alert = await deps.alerts.update(req.params.id, req.body, actor);
      req.log.info({ audit: true, actor, alert: alert.id, change: req.body }, 'alert triaged');
      deps.live.publishAlert(alert);
      return alert;
    },
  );
}

function registerStats(app: FastifyInstance, deps: ServeDeps): void {
  app.get<{ Querystring: { from?: string; to?: string; bucket_seconds?: number } }>(
    '/api/stats',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Events per type over time, top talkers, direction, alerts by level and rule',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            bucket_seconds: { type: 'integer', minimum: 1, maximum: 86_400 },
          },
        },
      },
    },
    async (req) => {
      const to = parseTime(req.query.to, 'to') ?? Date.now();
      const from = parseTime(req.query.from, 'from') ?? to - 3_600_000;
      const bucketSeconds = req.query.bucket_seconds ?? Math.max(1, Math.round((to - from) / 60_000));
      const out: Record<string, unknown> = { from, to, bucket_seconds: bucketSeconds };
      // Rollups of compacted hours plus a scan of the few hours without one (src/lake/rollup.ts).
      Object.assign(
        out,
        await deps.lake.stats({ from, to, bucketSeconds }, { timeoutMs: deps.config.query_timeout_ms }),
      );
      // Counted by the store over every alert of the window (not a page of them).
      const counts = await deps.alerts.count({ from, to });
      out.alerts_by_level = counts.by_level;
      out.alerts_by_rule = counts.by_rule;
      return out;
    },
  );
}

function sseFrame(item: LiveItem): string {
  return `id: ${item.seq}\nevent: ${item.kind}\ndata: ${JSON.stringify(item.data)}\n\n`;
}

function registerStream(app: FastifyInstance, deps: ServeDeps): void {
  const { config } = deps;
  // Streams never end by themselves: close them first, or app.close() waits on them forever.
  const open = new Set<ServerResponse>();
  const perToken = new Map<string, number>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  app.get<{ Querystring: { token?: string; last_event_id?: string } }>(
    '/api/stream',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Server-Sent Events: live alerts and a sampled event tail; resumes with Last-Event-ID',
        querystring: {
          type: 'object',
          properties: { token: { type: 'string' }, last_event_id: { type: 'string', pattern: '^\\d+$' } },
        },
      },
    },
    (req, reply) => {
      const key = req.principal?.tokenHash ?? req.ip;
      const mine = perToken.get(key) ?? 0;
      if (open.size >= config.sse_max_streams || mine >= config.sse_max_streams_per_token) {
        const which = open.size >= config.sse_max_streams ? 'in total' : 'for this token';
        return reply
          .code(429)
          .header('retry-after', '10')
          .send({ error: `too many open streams ${which}: close one first`, code: 'SOC_RATE_LIMITED' });
      }
      const lastId = Number(req.headers['last-event-id'] ?? req.query.last_event_id ?? deps.live.lastSeq());
      reply.hijack();
      const res = reply.raw;
      open.add(res);
      perToken.set(key, mine + 1);
      let closed = false;
      let unsubscribe = (): void => {};
      let heartbeat: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(res);
        const left = (perToken.get(key) ?? 1) - 1;
        if (left > 0) perToken.set(key, left);
        else perToken.delete(key);
      };
      // Backpressure: a reader that does not keep up is dropped (it reconnects with Last-Event-ID
      // and gets what is still in the ring) instead of buffering without bound.
      const send = (text: string): void => {
        if (closed) return;
        if (res.writableLength > config.sse_max_buffered_bytes) {
          app.log.warn({ buffered: res.writableLength, remoteAddress: req.ip }, 'slow stream reader dropped');
          cleanup();
          res.destroy();
          return;
        }
        res.write(text);
      };
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      for (const item of deps.live.since(Number.isFinite(lastId) ? lastId : 0)) send(sseFrame(item));
      if (closed) return;
      unsubscribe = deps.live.subscribe((item) => send(sseFrame(item)));
      heartbeat = setInterval(() => send(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
      req.raw.on('close', cleanup);
    },
  );
}

function registerQuery(app: FastifyInstance, deps: ServeDeps): void {
  app.post<{ Body: { sql: string; max_rows?: number } }>(
    '/api/query',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'Read-only SQL over the lake views (admin); DuckDB sandboxed: no files outside the lake, no ATTACH, COPY or extensions',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['sql'],
          properties: {
            sql: { type: 'string', minLength: 1, maxLength: 20_000 },
            max_rows: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
    async (req) => {
      const maxRows = Math.min(req.body.max_rows ?? deps.config.query_max_rows, deps.config.query_max_rows);
      req.log.info({ audit: true, actor: req.principal?.name, sql: req.body.sql.slice(0, 500) }, 'sql query');
      return deps.lake.sandbox(req.body.sql, {
        timeoutMs: deps.config.query_timeout_ms,
        maxRows,
        maxBytes: deps.config.query_max_response_bytes,
      });
    },
  );
}

function registerRuleReload(app: FastifyInstance, deps: ServeDeps): void {
  app.post(
    '/api/rules/reload',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'Reloads the Sigma rules (detect.rules) into the process and correlate roles of this process (admin); correlation windows start again empty',
      },
    },
    async (req, reply) => {
      if (!deps.reloadRules) {
        return reply.code(501).send({
          error:
            'no detection runs in this server process: restart the process and correlate members to load new rules',
          code: 'SOC_USAGE',
        });
      }
      const result = await deps.reloadRules();
      req.log.info({ audit: true, actor: req.principal?.name, ...result }, 'rules reloaded');
      return result;
    },
  );
}

/** Serves the built dashboard; any path that does not resolve inside webDir is refused. */
function registerStatic(app: FastifyInstance, webDir: string | undefined): void {
  const root = webDir ? resolve(webDir) : undefined;
  app.get('/*', async (req, reply) => {
    if (!root || !existsSync(join(root, 'index.html'))) {
      return reply
        .code(404)
        .send({ error: 'the dashboard is not built: run `npm run build`', code: 'SOC_NOT_FOUND' });
    }
    // The router has decoded the path once already: decoding again would turn `/%25` into `%`
    // and throw (a 500 with a stack trace in the log).
    const path = (req.params as { '*': string })['*'] ?? '';
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return reply.code(404).send({ error: 'not found' });
    const target = path === '' || !extname(file) ? join(root, 'index.html') : file;
    try {
      const body = await readFile(target);
      reply.header('content-type', CONTENT_TYPES[extname(target)] ?? 'application/octet-stream');
      if (target.includes(`${sep}assets${sep}`))
        reply.header('cache-control', 'public, max-age=31536000, immutable');
      return reply.send(body);
    } catch {
      return reply.code(404).send({ error: 'not found' });
    }
  });
}
