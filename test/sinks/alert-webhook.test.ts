import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Alert } from '../../src/detect/alert.ts';
import {
  backoffDelayMs,
  createWebhookAlertOutput,
  isRetryableStatus,
} from '../../src/sinks/alert-webhook.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function alert(id: string): Alert {
  return {
    id,
    rule_id: 'r',
    rule_title: 'Brute force from one source',
    level: 'high',
    tags: [],
    group: { src_ip: '10.0.0.1' },
    entity: '10.0.0.1',
    count: 10,
    first_seen: 1,
    last_seen: 2,
    event_ids: ['e1'],
    summary: 's',
    status: 'new',
    assignee: null,
    created_at: 3,
  };
}

interface Hit {
  at: number;
  body: unknown;
  headers: IncomingMessage['headers'];
}

async function server(
  handler: (hit: Hit, res: ServerResponse, n: number) => void,
): Promise<{ url: string; hits: Hit[]; srv: Server }> {
  const hits: Hit[] = [];
  const srv = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      const hit = { at: Date.now(), body: JSON.parse(data), headers: req.headers };
      hits.push(hit);
      handler(hit, res, hits.length);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  after(() => srv.close());
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`, hits, srv };
}

function output(url: string, over: Partial<{ max_retries: number; queue_capacity: number }> = {}) {
  const dataDir = join(tmpdir(), `socstream-webhook-${process.pid}-${Math.random().toString(36).slice(2)}`);
  dirs.push(dataDir);
  return createWebhookAlertOutput({
    config: {
      url,
      headers: { authorization: 'Bearer t0k' },
      max_retries: 3,
      queue_capacity: 100,
      timeout_ms: 2000,
      ...over,
    },
    dataDir,
    baseDelayMs: 20,
    maxDelayMs: 1000,
  });
}

test('delivers each alert as a JSON POST with the configured headers', async () => {
  const s = await server((_h, res) => res.writeHead(204).end());
  const out = output(s.url);
  await out.write([alert('a1'), alert('a2')]);
  await out.flush();
  assert.deepEqual(
    s.hits.map((h) => (h.body as Alert).id),
    ['a1', 'a2'],
  );
  assert.equal(s.hits[0].headers['content-type'], 'application/json');
  assert.equal(s.hits[0].headers.authorization, 'Bearer t0k');
  assert.deepEqual(out.stats(), { delivered: 2, retries: 0, deadLettered: 0, queued: 0 });
  await out.stop();
});

test('retries 503 and 429 with exponential backoff, then succeeds', async () => {
  const s = await server((_h, res, n) => res.writeHead(n === 1 ? 503 : n === 2 ? 429 : 200).end());
  const out = output(s.url);
  await out.write([alert('a1')]);
  await out.flush();
  assert.equal(s.hits.length, 3);
  assert.deepEqual(out.stats(), { delivered: 1, retries: 2, deadLettered: 0, queued: 0 });
  // Waited at least base·2^0 then base·2^1 between attempts.
  assert.ok(s.hits[1].at - s.hits[0].at >= 19);
  assert.ok(s.hits[2].at - s.hits[1].at >= 39);
  await out.stop();
});

test('after max_retries the alert goes to the dead-letter file with the error and attempts', async () => {
  const s = await server((_h, res) => res.writeHead(500).end());
  const out = output(s.url, { max_retries: 2 });
  await out.write([alert('doomed')]);
  await out.flush();
  assert.equal(s.hits.length, 3, 'first try + 2 retries');
  const dead = readFileSync(out.deadLetterPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].alert.id, 'doomed');
  assert.equal(dead[0].attempts, 3);
  assert.equal(dead[0].error, 'HTTP 500');
  assert.equal(out.stats().deadLettered, 1);
  await out.stop();
});

test('a 400 is final: dead-lettered at once, no retries', async () => {
  const s = await server((_h, res) => res.writeHead(400).end());
  const out = output(s.url);
  await out.write([alert('bad')]);
  await out.flush();
  assert.equal(s.hits.length, 1);
  assert.equal(out.stats().retries, 0);
  assert.equal(out.stats().deadLettered, 1);
  await out.stop();
});

test('an unreachable endpoint is retried, then dead-lettered; the stream goes on', async () => {
  const s = await server((_h, res) => res.writeHead(200).end());
  const url = s.url;
  await new Promise<void>((r) => s.srv.close(() => r()));
  const out = output(url, { max_retries: 1 });
  await out.write([alert('x1'), alert('x2')]);
  await out.flush();
  assert.deepEqual(out.stats(), { delivered: 0, retries: 2, deadLettered: 2, queued: 0 });
  await out.stop();
});

test('the queue is bounded: write() waits for room while the endpoint is slow', async () => {
  const held: ServerResponse[] = [];
  const s = await server((_h, res) => held.push(res));
  const out = output(s.url, { queue_capacity: 2 });
  let resolved = false;
  const writing = out.write([alert('q1'), alert('q2'), alert('q3'), alert('q4'), alert('q5')]).then(() => {
    resolved = true;
  });
  await new Promise((r) => setTimeout(r, 100));
  // q1 is in flight, q2 and q3 fill the queue: q4 and q5 are still waiting in write().
  assert.equal(resolved, false);
  assert.equal(out.stats().queued, 2);
  const release = setInterval(() => {
    for (const r of held.splice(0)) r.writeHead(200).end();
  }, 10);
  await writing;
  await out.flush();
  clearInterval(release);
  assert.equal(out.stats().delivered, 5);
  await out.stop();
});

test('backoff doubles up to the cap; retryable statuses', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((a) => backoffDelayMs(a, 500, 30_000)),
    [500, 1000, 2000, 4000, 30_000],
  );
  assert.equal(isRetryableStatus(503), true);
  assert.equal(isRetryableStatus(429), true);
  assert.equal(isRetryableStatus(404), false);
});
