import type { InputPosition, Reject } from '../core/envelope.ts';
import { truncateUtf8 } from '../sources/lines.ts';

/** One dead letter as written to the DLQ file or topic (docs/sources.md, "Dead letters"). */
export interface DeadLetterRecord {
  reason: string;
  detail?: string;
  source: string;
  format: string;
  position: InputPosition;
  /** ISO 8601, UTC. */
  received_at: string;
  /** The raw text, cut to `max_bytes` UTF-8 bytes on a character boundary. */
  text: string;
  /** Bytes of the original record, before any cut (by the source's max line bytes or here). */
  original_length: number;
  truncated: boolean;
}

export function deadLetterRecord(reject: Reject, maxBytes: number): DeadLetterRecord {
  const text = truncateUtf8(reject.text, maxBytes);
  // Cut here, or already cut by the source (a too-long line keeps only its head).
  const truncated = text.length < reject.text.length || Buffer.byteLength(reject.text) < reject.byteLength;
  const record: DeadLetterRecord = {
    reason: reject.reason,
    source: reject.source,
    format: reject.format,
    position: reject.position,
    received_at: new Date(reject.receivedAt).toISOString(),
    text,
    original_length: reject.byteLength,
    truncated,
  };
  if (reject.detail !== undefined) record.detail = reject.detail;
  return record;
}
