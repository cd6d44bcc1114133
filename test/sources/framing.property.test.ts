/**
 * Property tests (fast-check) for the two framers every byte-stream source relies on: for any
 * bytes and any way of splitting them into chunks, framing never throws, never holds more than
 * the limit, and gives the same lines as framing the whole input at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type FramedLine, LineFramer } from '../../src/sources/lines.ts';
import { type SyslogMessage, SyslogTcpFramer } from '../../src/sources/syslog.ts';

function chunked(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    out.push(Buffer.from(bytes.subarray(start, p)));
    start = p;
  }
  out.push(Buffer.from(bytes.subarray(start)));
  return out;
}

/** Bytes biased towards LF, CR and invalid UTF-8. */
const noisyBytes = fc
  .uint8Array({ maxLength: 600 })
  .chain((base) =>
    fc
      .array(fc.constantFrom(0x0a, 0x0d, 0xff, 0xc3, 0x80, 0x20, 0x31), { maxLength: 60 })
      .chain((extra) =>
        fc
          .shuffledSubarray([...base, ...extra], { minLength: base.length + extra.length })
          .map((a) => new Uint8Array(a)),
      ),
  );

test('LineFramer: any chunking gives the same lines, offsets and lengths; memory stays bounded', () => {
  fc.assert(
    fc.property(
      noisyBytes,
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.integer({ min: 1, max: 64 }),
      (bytes, cuts, max) => {
        const frame = (chunks: Buffer[]) => {
          const framer = new LineFramer(max);
          const out: FramedLine[] = [];
          for (const c of chunks) {
            framer.push(c, out);
            assert.ok(framer.bufferedBytes <= max);
          }
          framer.end(out);
          return out;
        };
        const whole = frame([Buffer.from(bytes)]);
        assert.deepEqual(frame(chunked(bytes, cuts)), whole);
        for (const line of whole) {
          assert.equal(line.tooLong, line.byteLength > max);
          assert.ok(line.offset + line.byteLength <= bytes.length);
        }
      },
    ),
    { numRuns: 300 },
  );
});

const message = fc.string({ minLength: 1, maxLength: 80 }).map((s) => `<13>${s.replace(/[\n\r\0]/g, ' ')}`);

test('SyslogTcpFramer: mixed octet-counted and newline frames survive any chunking', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(message, fc.boolean()), { minLength: 1, maxLength: 15 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (messages, cuts) => {
        const wire = Buffer.from(
          messages.map(([m, octet]) => (octet ? `${Buffer.byteLength(m)} ${m}` : `${m}\n`)).join(''),
        );
        const framer = new SyslogTcpFramer(4096);
        const out: SyslogMessage[] = [];
        for (const c of chunked(wire, cuts)) framer.push(c, out);
        assert.deepEqual(
          out.map((m) => m.text),
          messages.map(([m]) => m),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('SyslogTcpFramer: arbitrary bytes never throw and never exceed the limit per message', () => {
  fc.assert(
    fc.property(noisyBytes, fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
      const framer = new SyslogTcpFramer(32);
      const out: SyslogMessage[] = [];
      for (const c of chunked(bytes, cuts)) framer.push(c, out);
      for (const m of out) assert.ok(Buffer.byteLength(m.text) <= 32 * 3);
    }),
    { numRuns: 300 },
  );
});
