import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Source } from '../../src/core/component.ts';
import { httpSource } from '../../src/sources/http.ts';
import { collect, fixtureLines, testContext, texts } from './helpers.ts';

const sshd = fixtureLines('sshd.log');
const dns = fixtureLines('dns.log');
const TOKEN = 'ingest-token-0123456789';

type HttpSource = Source & { port: number };

async function started(extra: Record<string, unknown> = {}) {
  const src = httpSource.create(
    httpSource.config.parse({
      type: 'http',
      port: 0,
      token_sha256: createHash('sha256').update(TOKEN).digest('hex'),
      ...extra,
    }),
    testContext(),
  ) as HttpSource;
  await src.start();
  return { src, it: src.batches()[Symbol.asyncIterator](), url: `http://127.0.0.1:${src.port}/ingest` };
}

const auth = { authorization: `Bearer ${TOKEN}` };

test('401 without the bearer token or with a wrong one', async (t) => {
  const { src, url } = await started();
  t.after(() => src.stop());
  const none = await fetch(url, { method: 'POST', body: sshd[0] });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const wrong = await fetch(url, {
    method: 'POST',
    body: sshd[0],
    headers: { authorization: `Bearer ${TOKEN}x` },
  });
  assert.equal(wrong.status, 401);
});

test('raw lines are queued with ?format= as hint; the response waits for the ack (200)', async (t) => {
  const { src, it, url } = await started({ format: 'json' });
  t.after(() => src.stop());
  const response = fetch(`${url}?format=sshd`, {
    method: 'POST',
    body: `${sshd.join('\n')}\n`,
    headers: auth,
  });
  const batches = await collect(it, (b) => texts(b).length >= sshd.length, { ack: false });
  let answered = false;
  void response.then(() => {
    answered = true;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false, 'no answer before the ack');
  await batches[0].ack();
  const res = await response;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { accepted: sshd.length });
  assert.deepEqual(texts(batches), sshd);
  assert.equal(batches[0].records[0].formatHint, 'sshd');
});

test('413 for a body over the limit', async (t) => {
  const { src, url } = await started({ body_limit_bytes: 1024 });
  t.after(() => src.stop());
  const res = await fetch(url, { method: 'POST', body: dns.join('\n').repeat(2), headers: auth });
  assert.equal(res.status, 413);
});

test('429 when the queue is full (backpressure), 202 with respond_after queued', async (t) => {
  const { src, it, url } = await started({ queue_capacity: 3, respond_after: 'queued' });
  t.after(() => src.stop());
  const post = (lines: string[]) =>
    fetch(url, {
      method: 'POST',
      body: lines.join('\n'),
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
    });
  const first = await post(sshd.slice(0, 3));
  assert.equal(first.status, 202);
  const refused = await post(sshd.slice(3, 5));
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  await collect(it, (b) => texts(b).length >= 3);
  const retried = await post(sshd.slice(3, 5));
  assert.equal(retried.status, 202);
});

test('binary bodies and over-long lines are framed, not fatal', async (t) => {
  const { src, it, url } = await started({ max_line_bytes: 64 });
  t.after(() => src.stop());
  const body = Buffer.concat([
    Buffer.from([0xff, 0x00, 0x0a]),
    Buffer.from(`${'q'.repeat(1000)}\n${sshd[0]}`),
  ]);
  const response = fetch(url, { method: 'POST', body, headers: auth });
  const batches = await collect(it, (b) => texts(b).length >= 3);
  assert.equal((await response).status, 200);
  const records = batches.flatMap((b) => b.records);
  assert.deepEqual(
    records.map((r) => [r.text.length, r.byteLength, r.tooLong === true]),
    [
      [2, 2, false],
      [64, 1000, true],
      [64, Buffer.byteLength(sshd[0]), true],
    ],
  );
});

test('gzip bodies are accepted; a body that inflates past the limit gets 413, bad gzip 400, other encodings 415', async (t) => {
  const { src, it, url } = await started({ body_limit_bytes: 4096, respond_after: 'queued' });
  t.after(() => src.stop());
  const post = (body: Buffer, encoding: string) =>
    fetch(url, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { ...auth, 'content-encoding': encoding },
    });
  const ok = await post(gzipSync(`${sshd.join('\n')}\n`), 'gzip');
  assert.equal(ok.status, 202);
  assert.deepEqual(texts(await collect(it, (b) => texts(b).length >= sshd.length)), sshd);
  const bomb = gzipSync(Buffer.alloc(1 << 20, 0x61));
  assert.ok(bomb.length < 4096);
  assert.equal((await post(bomb, 'gzip')).status, 413);
  assert.equal((await post(Buffer.from('not gzip'), 'gzip')).status, 400);
  assert.equal((await post(Buffer.from(sshd[0]), 'br')).status, 415);
});
