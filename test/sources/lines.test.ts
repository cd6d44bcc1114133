import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FramedLine, LineFramer, toInputRecords, truncateUtf8 } from '../../src/sources/lines.ts';
import { fixtureLines } from './helpers.ts';

const sshd = fixtureLines('sshd.log');

function frame(chunks: Buffer[], max = 1024): FramedLine[] {
  const framer = new LineFramer(max);
  const out: FramedLine[] = [];
  for (const c of chunks) framer.push(c, out);
  framer.end(out);
  return out;
}

test('lines split across arbitrary chunk boundaries come out whole with exact offsets', () => {
  const input = Buffer.from(`${sshd.join('\n')}\n`);
  for (const size of [1, 3, 17, 64, input.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
    const lines = frame(chunks);
    assert.deepEqual(
      lines.map((l) => l.text),
      sshd,
      `chunk size ${size}`,
    );
    let offset = 0;
    for (const [i, l] of lines.entries()) {
      assert.equal(l.offset, offset);
      assert.equal(l.byteLength, Buffer.byteLength(sshd[i]));
      offset += l.byteLength + 1;
    }
  }
});

test('CRLF loses its CR, blank lines are dropped, an unterminated last line is emitted at end', () => {
  const lines = frame([Buffer.from(`${sshd[0]}\r\n\n\r\n${sshd[1]}`)]);
  assert.deepEqual(
    lines.map((l) => [l.text, l.byteLength]),
    [
      [sshd[0], Buffer.byteLength(sshd[0])],
      [sshd[1], Buffer.byteLength(sshd[1])],
    ],
  );
});

test('invalid UTF-8 becomes U+FFFD while byteLength counts the original bytes', () => {
  const bad = Buffer.concat([
    Buffer.from(sshd[0].slice(0, 20)),
    Buffer.from([0xff, 0xc3, 0x28]),
    Buffer.from('\n'),
  ]);
  const [line] = frame([bad]);
  assert.equal(line.byteLength, 23);
  assert.equal(line.text, `${sshd[0].slice(0, 20)}\uFFFD\uFFFD(`);
});

test('a line longer than maxLineBytes is cut, flagged tooLong, and never buffered whole', () => {
  const framer = new LineFramer(100);
  const out: FramedLine[] = [];
  const piece = Buffer.alloc(4096, 0x41);
  for (let i = 0; i < 256; i++) {
    framer.push(piece, out);
    assert.ok(framer.bufferedBytes <= 100);
  }
  framer.push(Buffer.from(`\n${sshd[2]}\n`), out);
  assert.equal(out.length, 2);
  assert.equal(out[0].tooLong, true);
  assert.equal(out[0].byteLength, 4096 * 256);
  assert.equal(out[0].text, 'A'.repeat(100));
  assert.deepEqual([out[1].text, out[1].offset, out[1].tooLong], [sshd[2], 4096 * 256 + 1, false]);
});

test('a too-long line inside one chunk is cut too', () => {
  const [line] = frame([Buffer.from(`${sshd[0]}\n`)], 10);
  assert.deepEqual(
    [line.text, line.tooLong, line.byteLength],
    [sshd[0].slice(0, 10), true, Buffer.byteLength(sshd[0])],
  );
});

test('truncateUtf8 never splits a character', () => {
  assert.equal(truncateUtf8('ab€cd', 4), 'ab');
  assert.equal(truncateUtf8('ab€cd', 5), 'ab€');
  assert.equal(truncateUtf8('short', 100), 'short');
});

test('toInputRecords: one receivedAt per batch, the position each line is given, tooLong only on a cut line', () => {
  const framer = new LineFramer(8);
  const lines: FramedLine[] = [];
  framer.push(Buffer.from('short\r\na line far too long\n\nlast'), lines);
  framer.end(lines);
  let sequence = 0;
  const records = toInputRecords(lines, 'sshd', () => ({
    kind: 'stream',
    name: 'test',
    sequence: sequence++,
  }));
  assert.deepEqual(
    records.map((r) => [r.text, r.byteLength, r.position, r.formatHint, r.tooLong]),
    [
      ['short', 5, { kind: 'stream', name: 'test', sequence: 0 }, 'sshd', undefined],
      ['a line f', 19, { kind: 'stream', name: 'test', sequence: 1 }, 'sshd', true],
      ['last', 4, { kind: 'stream', name: 'test', sequence: 2 }, 'sshd', undefined],
    ],
  );
  assert.equal(new Set(records.map((r) => r.receivedAt)).size, 1);
  assert.equal('tooLong' in records[0], false, 'an uncut record carries no tooLong key');
});
