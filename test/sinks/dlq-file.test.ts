import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Reject } from '../../src/core/envelope.ts';
import { dlqFile } from '../../src/sinks/dlq-file.ts';
import { fixtureLines, tempDir, testContext } from '../sources/helpers.ts';

const sshd = fixtureLines('sshd.log');

function reject(text: string, extra: Partial<Reject> = {}): Reject {
  return {
    reason: 'no_match',
    detail: 'not an sshd message',
    format: 'sshd',
    source: 'sshd',
    position: { kind: 'file', path: '/var/log/auth.log', fileId: '2049:77', offset: 1234 },
    receivedAt: Date.UTC(2026, 1, 12, 14, 10, 21),
    text,
    byteLength: Buffer.byteLength(text),
    ...extra,
  };
}

test('writes one JSON line per reject with reason, position, time, and the raw text', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'sub', 'dlq.ndjson');
  const ctx = testContext(dir);
  const dlq = dlqFile.create(dlqFile.config.parse({ type: 'file', path }), ctx);
  t.after(() => dlq.stop());
  await dlq.start();
  await dlq.write([reject(sshd[0]), reject(sshd[1], { detail: undefined, reason: 'bad_timestamp' })]);
  await dlq.flush();
  const lines = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], {
    reason: 'no_match',
    source: 'sshd',
    format: 'sshd',
    position: { kind: 'file', path: '/var/log/auth.log', fileId: '2049:77', offset: 1234 },
    received_at: '2026-02-12T14:10:21.000Z',
    text: sshd[0],
    original_length: Buffer.byteLength(sshd[0]),
    truncated: false,
    detail: 'not an sshd message',
  });
  assert.equal(lines[1].reason, 'bad_timestamp');
  assert.equal('detail' in lines[1], false);
  assert.equal(
    (await ctx.telemetry.registry.getSingleMetricAsString('socstream_dlq_writes_total')).includes(
      'output="file"} 2',
    ),
    true,
  );
});

test('text is cut to max_bytes on a character boundary, with the original length kept', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'dlq.ndjson');
  const dlq = dlqFile.create(dlqFile.config.parse({ type: 'file', path, max_bytes: 16 }), testContext(dir));
  t.after(() => dlq.stop());
  const text = `ü${sshd[0]}`;
  await dlq.write([reject(text)]);
  // A line the source already cut (too long): truncated even though it fits max_bytes here.
  await dlq.write([reject('abc', { reason: 'line_too_long', byteLength: 50 * 1024 * 1024 })]);
  await dlq.flush();
  const [a, b] = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(a.text, text.slice(0, 15));
  assert.ok(Buffer.byteLength(a.text) <= 16);
  assert.equal(a.original_length, Buffer.byteLength(text));
  assert.equal(a.truncated, true);
  assert.deepEqual([b.text, b.original_length, b.truncated], ['abc', 50 * 1024 * 1024, true]);
});

test('appends across restarts and keeps invalid UTF-8 replacement characters as text', async () => {
  const dir = tempDir();
  const path = join(dir, 'dlq.ndjson');
  for (let i = 0; i < 2; i++) {
    const dlq = dlqFile.create(dlqFile.config.parse({ type: 'file', path }), testContext(dir));
    await dlq.start();
    await dlq.write([reject(`\u0000\uFFFD${sshd[i]}`, { byteLength: 2 + Buffer.byteLength(sshd[i]) })]);
    await dlq.stop();
  }
  const lines = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.text),
    [`\u0000\uFFFD${sshd[0]}`, `\u0000\uFFFD${sshd[1]}`],
  );
});
