import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeAllEscapes,
  decodeZeekJsonEscapes,
  decodeZeekTsvEscapes,
  roundMicros,
} from '../../src/parsers/zeek-escapes.ts';

test('TSV: \\\\ → backslash, \\xNN below 0x80 → the character, 0x80+ kept as text, bad escapes kept', () => {
  assert.equal(decodeZeekTsvEscapes(String.raw`\\pipe\\ntsvcs`), String.raw`\pipe\ntsvcs`);
  assert.equal(decodeZeekTsvEscapes(String.raw`a\x09b\x2c\x23`), 'a\tb,#');
  assert.equal(decodeZeekTsvEscapes(String.raw`\xff\xc3(`), String.raw`\xff\xc3(`);
  assert.equal(
    decodeZeekTsvEscapes(String.raw`\\x0d`),
    String.raw`\x0d`,
    'an escaped backslash is not an escape',
  );
  assert.equal(decodeZeekTsvEscapes(String.raw`end\x4`), String.raw`end\x4`);
  assert.equal(decodeZeekTsvEscapes('plain'), 'plain');
});

test('JSON: only non-printable control bytes decode (Zeek writes \\n \\t \\r as JSON escapes)', () => {
  assert.equal(decodeZeekJsonEscapes(String.raw`\x00\x01\x7f`), '\u0000\u0001\u007f');
  assert.equal(decodeZeekJsonEscapes(String.raw`"\x0d\x0a"`), String.raw`"\x0d\x0a"`);
  assert.equal(decodeZeekJsonEscapes(String.raw`\x41\xc3`), String.raw`\x41\xc3`);
});

test('#separator values decode every escape', () => {
  assert.equal(decodeAllEscapes(String.raw`\x09`), '\t');
  assert.equal(decodeAllEscapes('||'), '||');
});

test('microsecond rounding: half away from zero like printf, integers and huge values untouched', () => {
  assert.equal(roundMicros(0.0008699893951416016), 0.00087);
  assert.equal(roundMicros(-0.0859375), -0.085938);
  assert.equal(roundMicros(-2150431849.6896954), -2150431849.689695);
  assert.equal(roundMicros(1521911720.865716), 1521911720.865716);
  assert.equal(roundMicros(3140000000000000), 3140000000000000);
  assert.equal(roundMicros(1.79e308), 1.79e308);
  assert.equal(roundMicros(12345678901.5), 12345678901.5);
});
