import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { redactUrl, SECURITY_HEADERS } from '../../src/serve/app.ts';
import { bearer, type Fixture, startFixture } from './helpers.ts';

let f: Fixture;
before(async () => {
  f = await startFixture();
});
after(() => f.close());

function json<T = Record<string, unknown>>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

describe('GET /api/events', () => {
  test('lists the lake newest first with the event columns', async () => {
    const res = await f.app.inject({ url: '/api/events?limit=500', headers: bearer('viewer') });
    assert.equal(res.statusCode, 200);
    const { events, next_cursor } = json<{ events: Array<Record<string, unknown>>; next_cursor: null }>(res);
    assert.equal(events.length, 50);
    assert.equal(next_cursor, null);
    const times = events.map((e) => Number(e.event_time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.ok(events.every((e) => typeof e.id === 'string' && typeof e.log_type === 'string'));
  });

  test('filters by log type, source IP and text; a cursor pages without overlap', async () => {
    const ssh = json<{ events: Array<{ log_type: string }> }>(
      await f.app.inject({ url: '/api/events?log_type=ssh', headers: bearer('viewer') }),
    );
    assert.equal(ssh.events.length, 10);
    assert.ok(ssh.events.every((e) => e.log_type === 'ssh'));

    const src = String(f.dns[0].normalized.src_ip);
    const bySrc = json<{ events: Array<{ src_ip: string }> }>(
      await f.app.inject({ url: `/api/events?src_ip=${src}`, headers: bearer('viewer') }),
    );
    const expected = [...f.dns, ...f.ssh].filter((e) => e.normalized.src_ip === src).length;
    assert.equal(bySrc.events.length, expected);
    assert.ok(bySrc.events.every((e) => e.src_ip === src));

    const query = String(f.dns[0].normalized.dns_query);
    const byText = json<{ events: Array<{ dns_query: string }> }>(
      await f.app.inject({
        url: `/api/events?q=${encodeURIComponent(query.slice(1, -1).toUpperCase())}`,
        headers: bearer('viewer'),
      }),
    );
    assert.ok(byText.events.length >= 1);
    assert.ok(
      byText.events.every((e) => e.dns_query.toLowerCase().includes(query.slice(1, -1).toLowerCase())),
    );

    const page1 = json<{ events: Array<{ id: string }>; next_cursor: string }>(
      await f.app.inject({ url: '/api/events?limit=20', headers: bearer('viewer') }),
    );
    assert.equal(page1.events.length, 20);
    assert.ok(page1.next_cursor);
    const page2 = json<{ events: Array<{ id: string }> }>(
      await f.app.inject({
        url: `/api/events?limit=20&cursor=${page1.next_cursor}`,
        headers: bearer('viewer'),
      }),
    );
    const seen = new Set(page1.events.map((e) => e.id));
    assert.equal(page2.events.length, 20);
    assert.ok(page2.events.every((e) => !seen.has(e.id)));
  });

  test('a time range keeps only events inside it', async () => {
    const from = Number(f.dns[10].normalized.event_time);
    const to = Number(f.dns[19].normalized.event_time);
    const res = json<{ events: Array<{ event_time: number }> }>(
      await f.app.inject({
        url: `/api/events?log_type=dns&from=${from}&to=${new Date(to).toISOString()}`,
        headers: bearer('viewer'),
      }),
    );
    assert.equal(res.events.length, 10);
    assert.ok(res.events.every((e) => e.event_time >= from && e.event_time <= to));
  });

  test('limits are capped, unknown parameters and SQL in values are refused or inert', async () => {
    assert.equal(
      (await f.app.inject({ url: '/api/events?limit=501', headers: bearer('viewer') })).statusCode,
      400,
    );
    assert.equal(
      (await f.app.inject({ url: '/api/events?drop=1', headers: bearer('viewer') })).statusCode,
      400,
    );
    assert.equal(
      (await f.app.inject({ url: '/api/events?log_type=x%3B%20DROP', headers: bearer('viewer') })).statusCode,
      400,
    );
    const inert = await f.app.inject({
      url: `/api/events?src_ip=${encodeURIComponent("1' OR '1'='1")}`,
      headers: bearer('viewer'),
    });
    assert.equal(inert.statusCode, 200);
    assert.equal(json<{ events: unknown[] }>(inert).events.length, 0);
    const badTime = await f.app.inject({ url: '/api/events?from=yesterday', headers: bearer('viewer') });
    assert.equal(badTime.statusCode, 400);
    assert.match(json<{ error: string }>(badTime).error, /from: expected epoch milliseconds or ISO 8601/);
    const unknownType = await f.app.inject({ url: '/api/events?log_type=nope', headers: bearer('viewer') });
    assert.equal(unknownType.statusCode, 400);
  });
});

describe('alerts', () => {
  test('GET /api/alerts filters by status, level, rule and entity', async () => {
    const all = json<{ alerts: Array<{ id: string }> }>(
      await f.app.inject({ url: '/api/alerts', headers: bearer('viewer') }),
    );
    assert.equal(all.alerts.length, 2);
    const medium = json<{ alerts: Array<{ id: string }> }>(
      await f.app.inject({ url: '/api/alerts?level=medium', headers: bearer('viewer') }),
    );
    assert.deepEqual(
      medium.alerts.map((a) => a.id),
      ['alert-dns'],
    );
    const entity = f.alerts[0].entity as string;
    const byEntity = json<{ alerts: Array<{ id: string }> }>(
      await f.app.inject({
        url: `/api/alerts?entity=${entity}&rule_id=ssh-brute`,
        headers: bearer('viewer'),
      }),
    );
    assert.deepEqual(
      byEntity.alerts.map((a) => a.id),
      [f.alerts[0].id],
    );
    const bad = await f.app.inject({ url: '/api/alerts?status=open', headers: bearer('viewer') });
    assert.equal(bad.statusCode, 400);
    assert.match(json<{ error: string }>(bad).error, /status: unknown value "open"/);
  });

  test('GET /api/alerts/:id returns the alert, its history and its events from the lake', async () => {
    const res = await f.app.inject({ url: `/api/alerts/${f.alerts[0].id}`, headers: bearer('viewer') });
    assert.equal(res.statusCode, 200);
    const body = json<{
      alert: { id: string };
      history: Array<{ action: string }>;
      events: Array<{ id: string }>;
    }>(res);
    assert.equal(body.alert.id, f.alerts[0].id);
    assert.equal(body.history[0].action, 'created');
    assert.deepEqual(body.events.map((e) => e.id).sort(), [...f.alerts[0].event_ids].sort());
    assert.equal(
      (await f.app.inject({ url: '/api/alerts/nope', headers: bearer('viewer') })).statusCode,
      404,
    );
  });

  test('PATCH triages (status, assignee, note) as the token holder, is audited and goes to the live feed', async () => {
    const id = f.alerts[1].id;
    const seqBefore = f.deps.live.lastSeq();
    const res = await f.app.inject({
      method: 'PATCH',
      url: `/api/alerts/${id}`,
      headers: bearer('analyst'),
      payload: { status: 'acknowledged', assignee: 'dana', note: 'looking' },
    });
    assert.equal(res.statusCode, 200);
    const alert = json<{ status: string; assignee: string }>(res);
    assert.equal(alert.status, 'acknowledged');
    assert.equal(alert.assignee, 'dana');
    const { history } = json<{
      history: Array<{ actor: string; action: string; to: string | null; note: string | null }>;
    }>(await f.app.inject({ url: `/api/alerts/${id}`, headers: bearer('viewer') }));
    assert.ok(
      history.some((h) => h.actor === 'analyst-user' && h.action === 'status' && h.to === 'acknowledged'),
    );
    assert.ok(history.some((h) => h.action === 'note' && h.note === 'looking'));
    assert.ok(
      f.logs.some((l) => l.includes('"audit":true') && l.includes('alert triaged') && l.includes(id)),
    );
    const pushed = f.deps.live.since(seqBefore);
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0].kind, 'alert');
  });

  test('PATCH refuses an unknown status, an empty body, unknown fields and a refused transition', async () => {
    const url = `/api/alerts/${f.alerts[0].id}`;
    const patch = (payload: unknown) =>
      f.app.inject({ method: 'PATCH', url, headers: bearer('analyst'), payload: payload as object });
    assert.equal((await patch({ status: 'done' })).statusCode, 400);
    assert.equal((await patch({})).statusCode, 400);
    assert.equal((await patch({ status: 'closed', owner: 'x' })).statusCode, 400);
    assert.equal((await patch({ status: 'closed' })).statusCode, 200);
    assert.equal((await patch({ status: 'acknowledged' })).statusCode, 409);
    assert.equal(
      (
        await f.app.inject({
          method: 'PATCH',
          url: '/api/alerts/nope',
          headers: bearer('analyst'),
          payload: { note: 'x' },
        })
      ).statusCode,
      404,
    );
  });
});

test('GET /api/stats counts events by type over time, top talkers, direction and alerts', async () => {
  const res = await f.app.inject({ url: '/api/stats?bucket_seconds=60', headers: bearer('viewer') });
  assert.equal(res.statusCode, 200);
  const s = json<{
    by_type: Array<{ t: number; log_type: string; n: number }>;
    top_src: Array<{ ip: string; n: number }>;
    direction: Array<{ direction: string; n: number }>;
    alerts_by_level: Record<string, number>;
    alerts_by_rule: Array<{ rule_id: string; n: number }>;
  }>(res);
  const total = (type: string) =>
    s.by_type.filter((r) => r.log_type === type).reduce((a, r) => a + Number(r.n), 0);
  assert.equal(total('dns'), 40);
  assert.equal(total('ssh'), 10);
  assert.ok(
    s.by_type.every((r) => Number(r.t) % 60_000 === 0),
    'buckets are whole minutes',
  );
  assert.ok(s.top_src.length >= 1 && s.top_src.length <= 10);
  assert.deepEqual(s.direction, [{ direction: 'internal', n: 50 }]);
  assert.deepEqual(s.alerts_by_level, { high: 1, medium: 1 });
  assert.equal(s.alerts_by_rule.length, 2);
});

test('GET /api/stats counts every alert of the window by level and rule, not a page of 1,000', async () => {
  // A window of its own (2031), far from the fixture's other alerts.
  const base = Date.parse('2031-03-01T00:00:00Z');
  const many = Array.from({ length: 1500 }, (_, i) => ({
    ...f.alerts[0],
    id: `stats-count-${i}`,
    rule_id: i % 5 === 0 ? 'rare-rule' : 'common-rule',
    rule_title: i % 5 === 0 ? 'Rare rule' : 'Common rule',
    level: i % 2 === 0 ? ('high' as const) : ('low' as const),
    first_seen: base + i * 1000,
    last_seen: base + i * 1000,
  }));
  await f.deps.alerts.upsert(many);
  const res = await f.app.inject({
    url: `/api/stats?from=${base}&to=${base + 3_600_000}&bucket_seconds=60`,
    headers: bearer('viewer'),
  });
  assert.equal(res.statusCode, 200);
  const s = json<{
    alerts_by_level: Record<string, number>;
    alerts_by_rule: Array<{ rule_id: string; title: string; n: number }>;
  }>(res);
  assert.deepEqual(s.alerts_by_level, { high: 750, low: 750 });
  assert.deepEqual(s.alerts_by_rule, [
    { rule_id: 'common-rule', title: 'Common rule', n: 1200 },
    { rule_id: 'rare-rule', title: 'Rare rule', n: 300 },
  ]);
});

test('GET /api/me names the token and its role', async () => {
  const res = await f.app.inject({ url: '/api/me', headers: bearer('analyst') });
  assert.deepEqual(json(res), { name: 'analyst-user', role: 'analyst' });
});

test('health, readiness, metrics and the OpenAPI document', async () => {
  assert.deepEqual(json(await f.app.inject({ url: '/healthz' })), { ok: true });
  const ready = await f.app.inject({ url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  const checks = json<{ ok: boolean; checks: Record<string, { ok: boolean }> }>(ready);
  assert.equal(checks.checks.alert_store.ok, true);
  assert.equal(checks.checks.lake.ok, true);
  await f.app.inject({ url: '/api/me', headers: bearer('viewer') });
  const metrics = await f.app.inject({ url: '/metrics' });
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  assert.match(metrics.body, /socstream_http_requests_total\{route="\/api\/me",status="200"\} \d+/);
  const doc = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
    await f.app.inject({ url: '/api/openapi.json', headers: bearer('viewer') }),
  );
  assert.match(doc.openapi, /^3\./);
  for (const path of [
    '/api/events',
    '/api/alerts',
    '/api/alerts/{id}',
    '/api/stats',
    '/api/stream',
    '/api/query',
    '/readyz',
  ])
    assert.ok(doc.paths[path], `OpenAPI has ${path}`);
  assert.ok(doc.paths['/api/alerts/{id}'].patch);
});

test('readiness is 503 when a dependency check fails', async () => {
  const g = await startFixture();
  try {
    g.deps.readiness = async () => ({ kafka: { ok: false, detail: 'no broker' } });
    const app = await (await import('../../src/serve/app.ts')).buildApp(g.deps);
    const res = await app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(json<{ checks: { kafka: { detail: string } } }>(res).checks.kafka.detail, 'no broker');
    await app.close();
  } finally {
    await g.close();
  }
});

describe('limits and headers', () => {
  test('401 without a token or with a wrong one, with WWW-Authenticate', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: 'Basic abc' },
    ]) {
      const res = await f.app.inject({ url: '/api/alerts', headers });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.equal(json<{ code: string }>(res).code, 'SOC_UNAUTHORIZED');
    }
  });

  test('403 for a role without the right', async () => {
    const res = await f.app.inject({
      method: 'PATCH',
      url: `/api/alerts/${f.alerts[0].id}`,
      headers: bearer('viewer'),
      payload: { note: 'x' },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(json<{ code: string }>(res).code, 'SOC_FORBIDDEN');
  });

  test('413 for a body over body_limit_bytes', async () => {
    const res = await f.app.inject({
      method: 'POST',
      url: '/api/query',
      headers: { ...bearer('admin'), 'content-type': 'application/json' },
      payload: JSON.stringify({ sql: `SELECT '${'x'.repeat(5000)}'` }),
    });
    assert.equal(res.statusCode, 413);
  });

  test('429 after rate_limit_per_minute requests from one client address, whatever the token; another address is not limited', async () => {
    const g = await startFixture({ rate_limit_per_minute: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push((await g.app.inject({ url: '/api/me', headers: bearer('viewer') })).statusCode);
      assert.deepEqual(codes, [200, 200, 200, 429]);
      const limited = await g.app.inject({ url: '/api/me', headers: bearer('viewer') });
      assert.equal(json<{ code: string }>(limited).code, 'SOC_RATE_LIMITED');
      assert.ok(limited.headers['retry-after']);
      // Per address, not per token: another token from the same address is limited too.
      assert.equal((await g.app.inject({ url: '/api/me', headers: bearer('analyst') })).statusCode, 429);
      assert.equal(
        (await g.app.inject({ url: '/api/me', headers: bearer('analyst'), remoteAddress: '10.9.9.9' }))
          .statusCode,
        200,
      );
      // Health and metrics are not API calls: never limited.
      assert.equal((await g.app.inject({ url: '/healthz' })).statusCode, 200);
    } finally {
      await g.close();
    }
  });

  test('security headers on every response; CORS off unless configured', async () => {
    const res = await f.app.inject({
      url: '/api/me',
      headers: { ...bearer('viewer'), origin: 'https://evil.example' },
    });
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[k], v);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const g = await startFixture({ cors_origins: ['https://soc.example'] });
    try {
      const ok = await g.app.inject({
        url: '/api/me',
        headers: { ...bearer('viewer'), origin: 'https://soc.example' },
      });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://soc.example');
      const other = await g.app.inject({
        url: '/api/me',
        headers: { ...bearer('viewer'), origin: 'https://evil.example' },
      });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      const preflight = await g.app.inject({
        method: 'OPTIONS',
        url: '/api/alerts',
        headers: { origin: 'https://soc.example' },
      });
      assert.equal(preflight.statusCode, 204);
    } finally {
      await g.close();
    }
  });
});

describe('the dashboard files', () => {
  let g: Fixture;
  before(async () => {
    const web = join(f.dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>socstream</title>');
    writeFileSync(join(web, 'assets', 'app-X.js'), 'console.log(1)');
    g = await startFixture({}, { webDir: web });
  });
  after(() => g.close());

  test('/ and unknown app paths serve index.html; assets with a long cache', async () => {
    const root = await g.app.inject({ url: '/' });
    assert.equal(root.statusCode, 200);
    assert.match(root.headers['content-type'] as string, /text\/html/);
    assert.match(root.body, /<title>socstream/);
    assert.match((await g.app.inject({ url: '/alerts/abc' })).body, /<title>socstream/);
    const js = await g.app.inject({ url: '/assets/app-X.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    assert.equal((await g.app.inject({ url: '/assets/missing.js' })).statusCode, 404);
  });

  test('path traversal out of the web directory is refused', async () => {
    for (const url of [
      '/..%2f..%2fetc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/..%5c..%5cetc/passwd',
      '/....//....//etc/passwd',
    ]) {
      const res = await g.app.inject({ url });
      assert.doesNotMatch(res.body, /root:.*:0:0:/, url);
      assert.ok(res.statusCode === 404 || /<title>socstream/.test(res.body), `${url}: ${res.statusCode}`);
    }
  });

  test('without a built dashboard, / says how to build it', async () => {
    const res = await f.app.inject({ url: '/' });
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /npm run build/);
  });
});

test('redactUrl hides the token query value', () => {
  assert.equal(redactUrl('/api/stream?token=abc&x=1'), '/api/stream?token=[redacted]&x=1');
  assert.equal(redactUrl('/api/stream?a=1&TOKEN=abc'), '/api/stream?a=1&TOKEN=[redacted]');
  assert.equal(redactUrl('/api/events?q=token'), '/api/events?q=token');
});

test('POST /api/rules/reload: an admin reloads the rules and gets their counts; without detection here it is 501', async () => {
  const g = await startFixture();
  try {
    const ok = await g.app.inject({ method: 'POST', url: '/api/rules/reload', headers: bearer('admin') });
    assert.equal(ok.statusCode, 200);
    const body = ok.json() as { rules: number; correlations: number; problems: number };
    assert.ok(body.rules > 0 && body.correlations > 0, JSON.stringify(body));
    assert.equal(body.problems, 0);
    assert.equal(
      (await g.app.inject({ method: 'POST', url: '/api/rules/reload', headers: bearer('analyst') }))
        .statusCode,
      403,
    );
  } finally {
    await g.close();
  }
  const none = await startFixture({}, { noReload: true });
  try {
    const res = await none.app.inject({ method: 'POST', url: '/api/rules/reload', headers: bearer('admin') });
    assert.equal(res.statusCode, 501);
  } finally {
    await none.close();
  }
});

describe('server-side sorting', () => {
  test('GET /api/alerts sorts the whole result by a validated key and refuses a cursor of another sort', async () => {
    const byCount = json<{ alerts: Array<{ id: string; count: number }>; next_cursor: string | null }>(
      await f.app.inject({ url: '/api/alerts?sort=count&order=asc&limit=1', headers: bearer('viewer') }),
    );
    const smallest = [...f.alerts].sort((a, b) => a.count - b.count)[0];
    assert.equal(byCount.alerts[0].id, smallest.id);
    assert.ok(byCount.next_cursor);
    const next = json<{ alerts: Array<{ count: number }> }>(
      await f.app.inject({
        url: `/api/alerts?sort=count&order=asc&limit=1&cursor=${byCount.next_cursor}`,
        headers: bearer('viewer'),
      }),
    );
    assert.ok(next.alerts[0].count >= byCount.alerts[0].count);
    const mixed = await f.app.inject({
      url: `/api/alerts?sort=level&limit=1&cursor=${byCount.next_cursor}`,
      headers: bearer('viewer'),
    });
    assert.equal(mixed.statusCode, 400);
    assert.match(json<{ error: string }>(mixed).error, /made for sort=count order=asc/);
    for (const bad of ['sort=severity', 'order=up', 'sort=rule_title']) {
      const res = await f.app.inject({ url: `/api/alerts?${bad}`, headers: bearer('viewer') });
      assert.equal(res.statusCode, 400, bad);
      assert.equal(json<{ code: string }>(res).code, 'SOC_USAGE');
    }
  });

  test('GET /api/events?order=asc lists oldest first over the whole range; pages do not overlap', async () => {
    const asc = json<{ events: Array<{ id: string; event_time: number }>; next_cursor: string }>(
      await f.app.inject({ url: '/api/events?order=asc&limit=30', headers: bearer('viewer') }),
    );
    const oldest = Math.min(...[...f.dns, ...f.ssh].map((e) => Number(e.normalized.event_time)));
    assert.equal(asc.events[0].event_time, oldest);
    const rest = json<{ events: Array<{ id: string; event_time: number }>; next_cursor: null }>(
      await f.app.inject({
        url: `/api/events?order=asc&limit=30&cursor=${asc.next_cursor}`,
        headers: bearer('viewer'),
      }),
    );
    const all = [...asc.events, ...rest.events];
    assert.equal(all.length, 50);
    assert.equal(new Set(all.map((e) => e.id)).size, 50);
    const times = all.map((e) => e.event_time);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    assert.equal(rest.next_cursor, null);
    const mixed = await f.app.inject({
      url: `/api/events?limit=30&cursor=${asc.next_cursor}`,
      headers: bearer('viewer'),
    });
    assert.equal(mixed.statusCode, 400);
    assert.match(json<{ error: string }>(mixed).error, /made for order=asc/);
    const forged = await f.app.inject({ url: '/api/events?cursor=garbage', headers: bearer('viewer') });
    assert.equal(forged.statusCode, 400);
  });
});
