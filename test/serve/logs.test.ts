import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Role } from '../../src/serve/auth.ts';
import { bearer, type Fixture, startFixture, TOKENS } from './helpers.ts';

/** Tokens never reach a log line: not from the header, not from ?token=, not a wrong one. */
let f: Fixture;
let base = '';
const WRONG = 'wrong-token-that-must-not-be-logged';

before(async () => {
  f = await startFixture({}, { logLevel: 'trace' });
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const address = f.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
after(() => f.close());

test('request, audit and error logs carry no token', async () => {
  for (const role of Object.keys(TOKENS) as Role[]) {
    await fetch(`${base}/api/alerts`, { headers: bearer(role) });
  }
  await fetch(`${base}/api/alerts`, { headers: { authorization: `Bearer ${WRONG}` } });
  await fetch(`${base}/api/events?from=not-a-time`, { headers: bearer('viewer') });
  await fetch(`${base}/api/alerts/${f.alerts[0].id}`, {
    method: 'PATCH',
    headers: { ...bearer('analyst'), 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'audited' }),
  });
  await fetch(`${base}/api/query`, {
    method: 'POST',
    headers: { ...bearer('admin'), 'content-type': 'application/json' },
    body: JSON.stringify({ sql: 'SELECT 1' }),
  });
  for (const token of [TOKENS.viewer, WRONG]) {
    const abort = new AbortController();
    await fetch(`${base}/api/stream?token=${token}`, { signal: abort.signal });
    abort.abort();
  }
  await new Promise((r) => setTimeout(r, 100));

  const text = f.logs.join('');
  // The logs are there (the test could fail): requests, the stream URL, the audit lines.
  assert.match(text, /incoming request/);
  assert.match(text, /\/api\/stream\?token=\[redacted\]/);
  assert.match(text, /"audit":true/);
  for (const secret of [...Object.values(TOKENS), WRONG]) assert.equal(text.includes(secret), false, secret);
  assert.equal(/authorization/i.test(text) && /Bearer [^[]/.test(text), false, 'no Bearer value');
});
