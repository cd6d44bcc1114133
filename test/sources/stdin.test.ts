import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { eventId } from '../../src/core/ids.ts';
import { StreamSource, stdinSource } from '../../src/sources/stdin.ts';
import { fixtureLines, testContext } from './helpers.ts';

const dns = fixtureLines('dns.log');

async function readAll(chunks: Buffer[], extra: Record<string, unknown> = {}) {
  const config = stdinSource.config.parse({ type: 'stdin', ...extra });
  const src = new StreamSource(config, testContext().telemetry, () => Readable.from(chunks));
  const records = [];
  for await (const batch of src.batches()) {
    records.push(...batch.records);
    await batch.ack();
  }
  return records;
}

test('frames stdin into lines with byte-offset positions, the last unterminated line included', async () => {
  const input = Buffer.from(dns.join('\n'));
  const chunks = [input.subarray(0, 100), input.subarray(100, 101), input.subarray(101)];
  const records = await readAll(chunks, { format: 'zeek-tsv' });
  assert.deepEqual(
    records.map((r) => r.text),
    dns,
  );
  assert.deepEqual(records[1].position, {
    kind: 'stream',
    name: 'stdin',
    sequence: Buffer.byteLength(dns[0]) + 1,
  });
  assert.equal(records[0].formatHint, 'zeek-tsv');
  const again = await readAll([input]);
  assert.deepEqual(
    again.map((r) => eventId(r.position)),
    records.map((r) => eventId(r.position)),
  );
});

test('binary input and an over-long line do not stop the stream', async () => {
  const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0xc3]);
  const long = Buffer.alloc(5000, 0x7a);
  const records = await readAll([garbage, long, Buffer.from(`\n${dns[4]}\n`)], { max_line_bytes: 1000 });
  assert.deepEqual(
    records.map((r) => [r.text.length, r.byteLength, r.tooLong === true]),
    [
      [3, 3, false],
      [1000, 5001, true],
      [dns[4].length, Buffer.byteLength(dns[4]), false],
    ],
  );
});

test('stop() ends the batches even while the input is silent', async () => {
  const silent = new Readable({ read() {} });
  const src = new StreamSource(
    stdinSource.config.parse({ type: 'stdin' }),
    testContext().telemetry,
    () => silent,
  );
  const it = src.batches()[Symbol.asyncIterator]();
  const pending = it.next();
  await new Promise((r) => setTimeout(r, 30));
  await src.stop();
  assert.equal((await pending).done, true);
  silent.destroy();
});
