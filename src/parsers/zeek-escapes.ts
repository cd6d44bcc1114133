/**
 * Zeek's `\xNN` escapes, decoded so the TSV and JSON readers give the same strings.
 *
 * Bytes 0x80 and above are escaped only when they are not valid UTF-8; a JavaScript string cannot
 * hold them losslessly, so both readers keep them as the four characters `\xNN`.
 *
 * JSON (`json_escape_utf8`): non-printable control bytes (0x00-0x1f except \b \t \n \f \r, and
 * 0x7f) are written as the text `\xNN`; printable controls go out as JSON's own `\n`, `\t`...
 * So in JSON `\x0a` can only be literal text (the analyzer log's `expected pattern: "\x0d\x0a"`)
 * and stays as written, while `\x00` or `\x01` is a byte and is decoded.
 */
export function decodeZeekJsonEscapes(value: string): string {
  let at = value.indexOf('\\x');
  if (at === -1) return value;
  let out = '';
  let from = 0;
  while (at !== -1) {
    const code = hexByte(value, at + 2);
    if (code === 0x7f || (code >= 0 && code < 0x20 && !JSON_PRINTABLE_CONTROLS.has(code))) {
      out += value.slice(from, at) + String.fromCharCode(code);
      from = at + 4;
      at = value.indexOf('\\x', from);
    } else {
      at = value.indexOf('\\x', at + 2);
    }
  }
  return out + value.slice(from);
}

const JSON_PRINTABLE_CONTROLS = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/** Decodes every `\xNN` (any byte value): used for the `#separator` header, which is pure ASCII. */
export function decodeAllEscapes(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * TSV: separators, control characters and `#` at the start are written as `\xNN` and a literal
 * backslash as `\\`; both decode (bytes >= 0x80 stay as `\xNN`, see above).
 */
export function decodeZeekTsvEscapes(value: string): string {
  let at = value.indexOf('\\');
  if (at === -1) return value;
  let out = '';
  let from = 0;
  while (at !== -1) {
    const next = value.charCodeAt(at + 1);
    if (next === 92 /* \ */) {
      out += value.slice(from, at + 1);
      from = at + 2;
      at = value.indexOf('\\', from);
      continue;
    }
    const code = next === 120 /* x */ ? hexByte(value, at + 2) : -1;
    if (code >= 0 && code < 0x80) {
      out += value.slice(from, at) + String.fromCharCode(code);
      from = at + 4;
      at = value.indexOf('\\', from);
    } else {
      at = value.indexOf('\\', at + 1);
    }
  }
  return out + value.slice(from);
}

/**
 * Zeek prints time, interval and double with six decimals in TSV (and exponent notation for
 * large negative times) but full doubles in JSON; rounding both to the microsecond, half away
 * from zero like printf, makes the two writers agree. 9e9 bounds |v| * 1e6 below 2^53.
 */
export function roundMicros(v: number): number {
  if (Number.isInteger(v) || !(Math.abs(v) < 9e9)) return v;
  return v < 0 ? -Math.round(-v * 1e6) / 1e6 : Math.round(v * 1e6) / 1e6;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function hexByte(s: string, i: number): number {
  if (i + 1 >= s.length) return -1;
  const hi = hexDigit(s.charCodeAt(i));
  const lo = hexDigit(s.charCodeAt(i + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}
