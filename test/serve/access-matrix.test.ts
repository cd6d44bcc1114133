import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROLES, type Role, roleAllows } from '../../src/serve/auth.ts';
import { bearer, type Fixture, startFixture } from './helpers.ts';

/**
 * Every route × every role × no token, over a listening server (the SSE route streams, so it is
 * read until its headers only). A route's least role is stated here, independently of the code.
 */
interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  body?: unknown;
  /** null: public. */
  role: Role | null;
}

let f: Fixture;
let base = '';
let routes: RouteCase[] = [];

before(async () => {
  f = await startFixture({ rate_limit_per_minute: 10_000 });
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const address = f.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const id = f.alerts[1].id;
  f.deps.rulePaths = ['rules'];
  routes = [
    { method: 'GET', url: '/healthz', role: null },
    { method: 'GET', url: '/readyz', role: null },
    { method: 'GET', url: '/metrics', role: null },
    { method: 'GET', url: '/api/me', role: 'viewer' },
    { method: 'GET', url: '/api/openapi.json', role: 'viewer' },
    { method: 'GET', url: '/api/events', role: 'viewer' },
    { method: 'GET', url: '/api/alerts', role: 'viewer' },
    { method: 'GET', url: `/api/alerts/${id}`, role: 'viewer' },
    { method: 'GET', url: `/api/alerts/${id}/events`, role: 'viewer' },
    { method: 'GET', url: '/api/stats', role: 'viewer' },
    { method: 'GET', url: '/api/stream', role: 'viewer' },
    // A note is always allowed by the workflow, so every permitted call succeeds.
    { method: 'PATCH', url: `/api/alerts/${id}`, body: { note: 'matrix' }, role: 'analyst' },
    { method: 'POST', url: '/api/query', body: { sql: 'SELECT count(*) AS n FROM events' }, role: 'admin' },
    { method: 'POST', url: '/api/rules/reload', role: 'admin' },
    // The analyst's pivots (src/serve/analyst-routes.ts).
    { method: 'GET', url: '/api/log-types', role: 'viewer' },
    { method: 'GET', url: `/api/events/${f.ssh[0].id}`, role: 'viewer' },
    { method: 'GET', url: '/api/events/histogram', role: 'viewer' },
    { method: 'GET', url: '/api/events/fields', role: 'viewer' },
    { method: 'GET', url: '/api/stats/sources', role: 'viewer' },
    { method: 'GET', url: '/api/alerts/groups?by=rule', role: 'viewer' },
    { method: 'GET', url: '/api/alerts/timeline', role: 'viewer' },
    { method: 'GET', url: '/api/rules/1ca62eb4-05e8-4454-a49d-4261855367f3', role: 'viewer' },
  ];
});
after(() => f.close());

async function call(r: RouteCase, who: Role | null): Promise<number> {
  const abort = new AbortController();
  const headers: Record<string, string> = who ? bearer(who) : {};
  if (r.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${r.url}`, {
    method: r.method,
    headers,
    body: r.body === undefined ? undefined : JSON.stringify(r.body),
    signal: abort.signal,
  });
  abort.abort();
  return res.status;
}

test('every route answers 401 without a token, 403 below its role and 200 at or above it', async () => {
  const table: string[] = [];
  for (const r of routes) {
    for (const who of [null, ...ROLES] as const) {
      const expected = r.role === null ? 200 : who === null ? 401 : roleAllows(who, r.role) ? 200 : 403;
      const status = await call(r, who);
      table.push(`${r.method} ${r.url} as ${who ?? 'nobody'}: ${status}`);
      assert.equal(status, expected, `${r.method} ${r.url} as ${who ?? 'no token'}`);
    }
  }
  assert.equal(table.length, routes.length * 4);
});

test('the matrix covers every API route the app registers', async () => {
  const doc = (await (await fetch(`${base}/api/openapi.json`, { headers: bearer('viewer') })).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const registered = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const covered = new Set(
    routes.map(
      (r) =>
        `${r.method} ${r.url
          .replace(/\?.*$/, '')
          .replace(f.alerts[1].id, '{id}')
          .replace(f.ssh[0].id, '{id}')
          .replace('1ca62eb4-05e8-4454-a49d-4261855367f3', '{id}')}`,
    ),
  );
  for (const route of registered) assert.ok(covered.has(route), `${route} is in the access matrix`);
});

test('the stream takes its token from ?token= (EventSource sends no headers), others do not', async () => {
  const abort = new AbortController();
  const stream = await fetch(
    `${base}/api/stream?token=${encodeURIComponent('viewer-token-0123456789abcdef')}`,
    {
      signal: abort.signal,
    },
  );
  abort.abort();
  assert.equal(stream.status, 200);
  const events = await fetch(`${base}/api/events?token=viewer-token-0123456789abcdef`);
  assert.equal(events.status, 401);
});
