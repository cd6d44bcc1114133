/**
 * Newline framing shared by the byte-stream sources (file, stdin, http, syslog over TCP).
 * Sources never parse: they cut bytes into lines and say where each line started.
 *
 * - A line longer than `maxLineBytes` is never buffered whole: its first `maxLineBytes` are kept,
 *   the rest is skipped up to the next newline, and the record is marked `tooLong` with the exact
 *   original `byteLength`, so a 50 MB line costs at most `maxLineBytes` of memory.
 * - Text is decoded as UTF-8; invalid sequences become U+FFFD (WHATWG decoding), while
 *   `byteLength` stays the count of the original bytes.
 * - A trailing `\r` (CRLF input) is not part of the line; blank lines carry no event and are dropped.
 */
import type { InputPosition, InputRecord } from '../core/envelope.ts';

export interface FramedLine {
  text: string;
  /** Bytes of the line in the input, without its terminator. */
  byteLength: number;
  /** Absolute byte offset of the line's first byte in the stream. */
  offset: number;
  tooLong: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  readonly maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Absolute offset of the first byte of the line being assembled (= next unread line start). */
  #lineStart: number;
  /** Set while skipping the tail of a too-long line: the kept head. */
  #cutHead: Buffer | null = null;

  constructor(maxLineBytes: number, startOffset = 0) {
    this.maxLineBytes = maxLineBytes;
    this.#lineStart = startOffset;
  }

  /** Offset of the first byte not yet part of an emitted line: where a restart must resume. */
  get lineStart(): number {
    return this.#lineStart;
  }

  /** Bytes held for an unterminated line (bounded by maxLineBytes). */
  get bufferedBytes(): number {
    return this.#cutHead ? this.#cutHead.length : this.#pendingBytes;
  }

  /** Frames `chunk`, appending every completed line to `out`. */
  push(chunk: Buffer, out: FramedLine[]): void {
    let pos = 0;
    let nl = chunk.indexOf(LF, pos);
    while (nl !== -1) {
      this.#finishLine(chunk, pos, nl, out);
      pos = nl + 1;
      nl = chunk.indexOf(LF, pos);
    }
    if (pos < chunk.length) this.#hold(chunk, pos, chunk.length);
  }

  /** End of stream: an unterminated last line is still a line. */
  end(out: FramedLine[]): void {
    if (this.#pendingBytes === 0 && !this.#cutHead) return;
    this.#finishLine(Buffer.alloc(0), 0, 0, out, 0);
  }

  /** Drops any partial line and restarts at `offset` (file truncation). */
  reset(offset: number): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#cutHead = null;
    this.#lineStart = offset;
  }

  #hold(chunk: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.#cutHead) {
      this.#pendingBytes += length;
      return;
    }
    if (this.#pendingBytes + length > this.maxLineBytes) {
      // Keep only the head; from now on only count the bytes until the newline.
      const head = Buffer.concat([...this.#pending, chunk.subarray(start, end)], this.maxLineBytes);
      this.#cutHead = Buffer.from(head);
      this.#pending = [];
      this.#pendingBytes += length;
      return;
    }
    // Copy: the caller may reuse its read buffer.
    this.#pending.push(Buffer.from(chunk.subarray(start, end)));
    this.#pendingBytes += length;
  }

  #finishLine(chunk: Buffer, start: number, end: number, out: FramedLine[], terminator = 1): void {
    const total = this.#pendingBytes + (end - start);
    const offset = this.#lineStart;
    this.#lineStart += total + terminator;
    if (this.#cutHead) {
      out.push({ text: this.#cutHead.toString('utf8'), byteLength: total, offset, tooLong: true });
      this.#cutHead = null;
      this.#pendingBytes = 0;
      return;
    }
    let line: Buffer;
    if (this.#pending.length === 0) line = chunk.subarray(start, end);
    else if (total > this.maxLineBytes) {
      line = Buffer.concat([...this.#pending, chunk.subarray(start, end)], this.maxLineBytes);
    } else line = Buffer.concat([...this.#pending, chunk.subarray(start, end)], total);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (total > this.maxLineBytes) {
      out.push({
        text: line.subarray(0, this.maxLineBytes).toString('utf8'),
        byteLength: total,
        offset,
        tooLong: true,
      });
      return;
    }
    const byteLength = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    if (byteLength === 0) return;
    out.push({ text: line.toString('utf8', 0, byteLength), byteLength, offset, tooLong: false });
  }
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

/** A framed piece of input: a line (LineFramer) or a message (syslog's octet-counted framing). */
export interface FramedText {
  text: string;
  byteLength: number;
  tooLong: boolean;
}

/**
 * Framed lines → InputRecords, the one path for every line source (file, stdin, http, syslog):
 * one `receivedAt` for the batch, `positionOf` says where each line came from, and `tooLong` is set
 * only on a cut line (the parser rejects it as line_too_long).
 */
export function toInputRecords<L extends FramedText>(
  lines: readonly L[],
  formatHint: string | undefined,
  positionOf: (line: L) => InputPosition,
): InputRecord[] {
  const receivedAt = Date.now();
  const records: InputRecord[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const record: InputRecord = {
      text: line.text,
      byteLength: line.byteLength,
      position: positionOf(line),
      formatHint,
      receivedAt,
    };
    if (line.tooLong) record.tooLong = true;
    records[i] = record;
  }
  return records;
}
