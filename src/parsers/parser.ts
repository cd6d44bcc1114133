import type { z } from 'zod';
import type { Fields, InputRecord, ParsedRecord } from '../core/envelope.ts';

/** A parser's verdict on one input record. Bad data is a reject with a reason, never a throw. */
export type ParseResult =
  | { ok: true; records: ParsedRecord[] }
  /** A line that carries no event (a Zeek `#` header, a blank line): neither accepted nor rejected. */
  | { ok: true; records: []; skipped: true }
  | { ok: false; reason: string; detail?: string };

/**
 * A parser instance is per stream (one file, one topic-partition, one connection), because some
 * formats carry state across lines: Zeek TSV headers, syslog year inference.
 */
export interface Parser {
  readonly format: string;
  parse(record: InputRecord): ParseResult;
  /**
   * The end of the input: records a parser still holds (kafka-log holds an ERROR event until its
   * stack trace has ended). Optional; formats that hold nothing have none.
   */
  flush?(): ParseResult;
}

export interface ParserOptions {
  /** Configured log type, for lines whose format cannot tell (json, headerless zeek-tsv, zeek-json). */
  logType?: string;
  /**
   * The log type the input's name suggests (`conn.log` → conn; core/format-hint.ts): a hint, not a
   * fact. Only a format whose writers name files after the log type may take it, and only for a
   * line of its own shape (Zeek JSON without `_path`); every other format ignores it.
   */
  nameLogType?: string;
  /** Per-format settings from config (nginx log_format, json time field, zeek fields...). */
  settings?: Record<string, unknown>;
  /** Reference time for formats without a year (RFC 3164); defaults to now. */
  referenceTimeMs?: number;
}

export interface ParserDefinition {
  /** The --format name: zeek-tsv, zeek-json, suricata-eve, sshd, auth-json, nginx, app-json, threat-json, json. */
  format: string;
  /**
   * True when a line parses without any state from the lines before it (one JSON object per line):
   * one parser then serves every stream of the format. Formats that carry state (Zeek TSV headers,
   * syslog year inference) get a parser per stream.
   */
  stateless?: boolean;
  /** The envelope `source` family this format produces (zeek, suricata, sshd, ...), for rejects. */
  source?: string;
  summary: string;
  /**
   * True for a format that takes any line of its syntax and cannot tell its type (generic `json`):
   * in a stream whose format was detected, a line that a more specific format claims is that
   * format's, not the catch-all's (an EVE line after an unknown JSON first line).
   */
  catchAll?: boolean;
  /**
   * JSON formats: whether one parsed object carries this format's marker keys (what `detect`
   * scores). Lets a catch-all parser's stream see, without re-reading the text, that a line is
   * another format's.
   */
  claims?(object: Fields): boolean;
  /**
   * Schema of this format's `settings` (ParserOptions.settings), strict so a typo is a config error.
   * Absent when the format takes no settings.
   */
  settings?: z.ZodType;
  /**
   * Confidence 0..1 that these first lines are in this format (format detection), given the
   * format's configured settings when the caller has them (a custom nginx `log_format`).
   */
  detect(sampleLines: readonly string[], settings?: Record<string, unknown>): number;
  create(options?: ParserOptions): Parser;
}
