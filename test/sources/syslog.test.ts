import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { Source, SourceBatch, SourceDefinition } from '../../src/core/component.ts';
import {
  type SyslogMessage,
  SyslogTcpFramer,
  syslogTcpSource,
  syslogUdpSource,
} from '../../src/sources/syslog.ts';
import { collect, fixtureLines, testContext, texts } from './helpers.ts';

const rfc3164 = fixtureLines('sshd.log');
const rfc5424 = fixtureLines('opnsense-sshd-5424.log');

const octet = (m: string) => `${Buffer.byteLength(m)} ${m}`;

function frameAll(chunks: Buffer[], max = 4096): SyslogMessage[] {
  const framer = new SyslogTcpFramer(max);
  const out: SyslogMessage[] = [];
  for (const c of chunks) framer.push(c, out);
  return out;
}

function split(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

test('TCP framing: octet-counted and newline-terminated messages mixed, split at any byte', () => {
  const stream = Buffer.from(
    octet(rfc5424[0]) +
      octet(rfc5424[1]) +
      `${rfc3164[0]}\n` +
      octet(`${rfc5424[2]}\n`) +
      `${rfc3164[1]}\r\n`,
  );
  const expected = [rfc5424[0], rfc5424[1], rfc3164[0], rfc5424[2], rfc3164[1]];
  for (const size of [1, 2, 7, 50, stream.length]) {
    assert.deepEqual(
      frameAll(split(stream, size)).map((m) => m.text),
      expected,
      `chunk size ${size}`,
    );
  }
});

test('TCP framing: an over-long octet-counted frame is cut and skipped exactly, the next one is intact', () => {
  const huge = `<38>1 ${'x'.repeat(10_000)}`;
  const stream = Buffer.from(octet(huge) + octet(rfc5424[3]) + `${'y'.repeat(9000)}\n${rfc3164[2]}\n`);
  for (const size of [333, stream.length]) {
    const out = frameAll(split(stream, size), 200);
    assert.deepEqual(
      out.map((m) => [m.text.length, m.byteLength, m.tooLong]),
      [
        [200, Buffer.byteLength(huge), true],
        [rfc5424[3].length, Buffer.byteLength(rfc5424[3]), false],
        [200, 9000, true],
        [rfc3164[2].length, Buffer.byteLength(rfc3164[2]), false],
      ],
    );
  }
});

async function started(def: SourceDefinition, extra: Record<string, unknown> = {}) {
  const src = def.create(def.config.parse({ type: def.type, port: 0, ...extra }), testContext()) as Source & {
    port: number;
  };
  await src.start();
  return { src, it: src.batches()[Symbol.asyncIterator]() };
}

test('syslog_udp: one message per datagram, RFC 3164 and 5424, binary junk kept as text', async (t) => {
  const { src, it } = await started(syslogUdpSource, { format: 'sshd' });
  t.after(() => src.stop());
  const client = createSocket('udp4');
  t.after(() => client.close());
  const send = (b: Buffer) => new Promise<void>((r) => client.send(b, src.port, '127.0.0.1', () => r()));
  await send(Buffer.from(`${rfc3164[0]}\n`));
  await send(Buffer.from(rfc5424[0]));
  await send(Buffer.from([0x3c, 0xff, 0x00, 0x41]));
  const batches = await collect(it, (b) => texts(b).length >= 3);
  assert.deepEqual(texts(batches), [rfc3164[0], rfc5424[0], '<\uFFFD\u0000A']);
  const [first] = batches[0].records;
  assert.equal(first.formatHint, 'sshd');
  assert.equal(first.position.kind, 'stream');
  assert.match(first.position.kind === 'stream' ? first.position.name : '', /^syslog_udp:syslog:\d+$/);
});

test('syslog_tcp: octet counting over a real socket, and a full queue pauses the sender instead of dropping', async (t) => {
  const { src, it } = await started(syslogTcpSource, { queue_capacity: 2, batch_max_records: 1 });
  t.after(() => src.stop());
  const socket = connect(src.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  const all = [...rfc5424, ...rfc3164];
  for (const m of all) socket.write(octet(m));
  // Nothing is pulled for a while: the queue stays bounded, nothing is lost.
  await new Promise((r) => setTimeout(r, 200));
  const batches: SourceBatch[] = await collect(it, (b) => texts(b).length >= all.length);
  assert.deepEqual(texts(batches), all);
});

test('syslog_tcp: a 50 MB newline-framed line is cut and the stream goes on', async (t) => {
  const { src, it } = await started(syslogTcpSource, { max_message_bytes: 4096 });
  t.after(() => src.stop());
  const socket = connect(src.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  const huge = Buffer.alloc(50 * 1024 * 1024, 0x62);
  huge[0] = 0x3c; // '<': newline framing, not octet counting
  socket.write(huge);
  socket.write(`\n${rfc3164[4]}\n`);
  const batches = await collect(it, (b) => texts(b).length >= 2, { timeoutMs: 30_000 });
  const records = batches.flatMap((b) => b.records);
  assert.deepEqual(
    records.map((r) => [r.text.length, r.byteLength, r.tooLong === true]),
    [
      [4096, huge.length, true],
      [rfc3164[4].length, Buffer.byteLength(rfc3164[4]), false],
    ],
  );
});
