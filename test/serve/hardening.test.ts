import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer } from '../../src/serve/server.ts';
import { alertFor, bearer, startFixture, TOKENS } from './helpers.ts';

/**
 * The API under abuse (issue 16): rate limits before authentication, the token redacted in any
 * encoding, malformed paths, bounded streams with backpressure, and lake queries that cannot
 * overload the server (pools, deadlines, response size).
 */
const HEAVY = 'SELECT count(*) FROM range(100000000000) a';

test('wrong and missing tokens are rate-limited per client address (no unlimited guessing)', async () => {
  const f = await startFixture({ rate_limit_per_minute: 3 });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const headers = i % 2 === 0 ? { authorization: `Bearer guess-${i}-0123456789abcdef` } : {};
      codes.push((await f.app.inject({ url: '/api/alerts', headers })).statusCode);
    }
    assert.deepEqual(codes, [401, 401, 401]);
    // The fourth request from this address is refused before its token is even looked at.
    const limited = await f.app.inject({ url: '/api/alerts', headers: bearer('admin') });
    assert.equal(limited.statusCode, 429);
    assert.ok(limited.headers['retry-after']);
    // The stream is no way around it.
    assert.equal((await f.app.inject({ url: '/api/stream?token=guess' })).statusCode, 429);
  } finally {
    await f.close();
  }
});

test('the token is redacted from request logs in any encoding of its parameter name', async () => {
  const f = await startFixture({ sse_max_streams: 1 });
  try {
    const token = TOKENS.viewer;
    const variants = [
      `%74oken=${token}`,
      `TOKEN=${token}`,
      `to%6Ben=${token}`,
      `x=1&%54%4F%4B%45%4E=${token}`,
    ];
    for (const v of variants) await f.app.inject({ url: `/api/alerts?${v}` });
    const text = f.logs.join('');
    for (const v of variants)
      assert.ok(text.includes(v.replace(token, '[redacted]')), `${v} logged redacted`);
    assert.equal(text.includes(token), false);
  } finally {
    await f.close();
  }
});

test('malformed and percent-encoded paths answer 400/404, never 500, and log no error', async () => {
  const f = await startFixture();
  try {
    for (const url of [
      '/%25',
      '/%',
      '/%E0%A4%A',
      '/a%2F..%2F..%2Fetc%2Fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const res = await f.app.inject({ url });
      assert.ok([400, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
    }
    assert.equal(
      f.logs.some((l) => l.includes('"level":50')),
      false,
      'no error-level log line',
    );
  } finally {
    await f.close();
  }
});

test('streams are capped per token and in total', async () => {
  const f = await startFixture({ sse_max_streams: 3, sse_max_streams_per_token: 2 });
  const server = await startServer(f.deps, '127.0.0.1', 0);
  const controllers: AbortController[] = [];
  const open = async (role: 'viewer' | 'analyst' | 'admin'): Promise<number> => {
    const c = new AbortController();
    controllers.push(c);
    const res = await fetch(`${server.url}/api/stream`, { headers: bearer(role), signal: c.signal });
    if (res.status !== 200) await res.body?.cancel();
    return res.status;
  };
  try {
    assert.equal(await open('viewer'), 200);
    assert.equal(await open('viewer'), 200);
    assert.equal(await open('viewer'), 429); // per token
    assert.equal(await open('analyst'), 200);
    assert.equal(await open('admin'), 429); // in total
    // Closing one frees its slot.
    controllers[0].abort();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await open('admin'), 200);
  } finally {
    for (const c of controllers) c.abort();
    await server.close();
    await f.close();
  }
});

test('a stream reader that does not read is dropped, not buffered without bound', async () => {
  const f = await startFixture({ sse_max_buffered_bytes: 64 * 1024 });
  const server = await startServer(f.deps, '127.0.0.1', 0);
  const { port } = new URL(server.url);
  try {
    const socket = connect(Number(port), '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`GET /api/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.viewer}\r\n\r\n`);
    socket.pause(); // never reads: the kernel buffers fill, then the server's
    await new Promise((r) => setTimeout(r, 200));
    const big = 'x'.repeat(200_000);
    const dropped = () => f.logs.some((l) => l.includes('slow stream reader dropped'));
    let published = 0;
    const started = Date.now();
    // 200 kB alerts until the server gives up on the reader (kernel buffers take a few MB first).
    while (!dropped() && Date.now() - started < 20_000) {
      f.deps.live.publishAlert(alertFor(f.ssh.slice(0, 1), { id: `big-${published++}`, summary: big }));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(dropped(), `the server dropped the slow stream (after ${published} alerts of 200 kB)`);
    // What the server held for it is bounded: far less than what was published.
    assert.ok(published * 200_000 < 100 * 1024 * 1024);
    // The connection ends once the client reads again.
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.resume();
    await closed;
  } finally {
    await server.close();
    await f.close();
  }
});

test('admin SQL: a full pool answers 429, a queued query past its deadline never starts, a running one is interrupted until it ends', async () => {
  const f = await startFixture(
    { query_timeout_ms: 1500 },
    { lakeLimits: { sqlConcurrency: 1, sqlQueue: 1, threads: 1 } },
  );
  try {
    const post = (sql: string) =>
      f.app.inject({ method: 'POST', url: '/api/query', headers: bearer('admin'), payload: { sql } });
    const started = performance.now();
    const [a, b, c] = await Promise.all([post(HEAVY), post(HEAVY), post(HEAVY)]);
    const elapsed = performance.now() - started;
    const codes = [a, b, c].map((r) => r.statusCode).sort();
    // One runs and is interrupted; one waits and times out in the queue; one finds the queue full.
    assert.deepEqual(codes, [400, 400, 429]);
    const messages = [a, b, c].map((r) => String(r.json().error));
    assert.ok(
      messages.some((m) => /timed out after 1500 ms/.test(m)),
      messages.join(' | '),
    );
    assert.ok(
      messages.some((m) => /waiting for a free query slot|before it started/.test(m)),
      messages.join(' | '),
    );
    assert.ok(
      messages.some((m) => /pool is full/.test(m)),
      messages.join(' | '),
    );
    // Every answer within the time limit plus the interrupt's latency (not 30 s of a runaway query).
    assert.ok(elapsed < 8000, `answered in ${Math.round(elapsed)} ms`);
  } finally {
    await f.close();
  }
});

test("a viewer's event search does not wait behind an admin's heavy SQL", async () => {
  const f = await startFixture(
    { query_timeout_ms: 4000 },
    { lakeLimits: { sqlConcurrency: 1, sqlQueue: 2, viewerConcurrency: 1, threads: 2 } },
  );
  try {
    const heavy = f.app.inject({
      method: 'POST',
      url: '/api/query',
      headers: bearer('admin'),
      payload: { sql: HEAVY },
    });
    await new Promise((r) => setTimeout(r, 200));
    const events = await f.app.inject({ url: '/api/events?limit=1', headers: bearer('viewer') });
    assert.equal(events.statusCode, 200);
    assert.equal(events.json().events.length, 1);
    // The viewer's answer came while the admin's query still ran.
    let heavyDone = false;
    void heavy.then(() => {
      heavyDone = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(heavyDone, false);
    assert.equal((await heavy).statusCode, 400);
  } finally {
    await f.close();
  }
});

test('a response larger than query_max_response_bytes is cut and flagged truncated', async () => {
  const f = await startFixture({ query_max_response_bytes: 100_000, query_max_rows: 100 });
  try {
    const res = await f.app.inject({
      method: 'POST',
      url: '/api/query',
      headers: bearer('admin'),
      payload: { sql: "SELECT repeat('x', 10000) AS big FROM range(50)" },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { rows: unknown[]; truncated: boolean };
    assert.equal(body.truncated, true);
    assert.ok(body.rows.length < 11 && body.rows.length >= 9, `${body.rows.length} rows`);
    assert.ok(res.payload.length < 110_000);
  } finally {
    await f.close();
  }
});
