/**
 * The format hint a record carries (`InputRecord.formatHint`, the `socstream-format` Kafka header):
 *
 * - `format`                 a named format (`sshd`, `zeek-json`);
 * - `format:log_type`        a named format and a configured log type (`zeek-json:conn`, `json:fw`):
 *                            the user's word, taken for every line;
 * - `format@name` / `auto@name`  a named (or, with `auto`, detected) format and the log type the
 *                            input's *name* suggests (`/var/log/zeek/conn.log` → `auto@conn`). A
 *                            name proves nothing about a line: it is a hint that only formats whose
 *                            writers name files after the log type take (Zeek JSON without `_path`,
 *                            headerless Zeek TSV, generic JSON), and only for a line of their own
 *                            shape. A file `all.log` or `dns.log` may hold EVE and sshd lines too.
 *
 * `auto:name` is read as `auto@name` (the form file sources sent before names became hints: with
 * `auto` there is no configured log type).
 */
export interface FormatHint {
  /** The named format; absent when it is detected from the data (`auto`, or no hint). */
  format?: string;
  /** A configured log type: authoritative. */
  logType?: string;
  /** The log type the input's name suggests: a hint (see above). */
  nameLogType?: string;
}

const AUTO = 'auto';

export function parseFormatHint(hint: string | undefined): FormatHint {
  if (!hint) return {};
  const out: FormatHint = {};
  let head = hint;
  const at = hint.indexOf('@');
  if (at >= 0) {
    head = hint.slice(0, at);
    if (at + 1 < hint.length) out.nameLogType = hint.slice(at + 1);
  }
  const colon = head.indexOf(':');
  const format = colon >= 0 ? head.slice(0, colon) : head;
  const logType = colon > 0 && colon + 1 < head.length ? head.slice(colon + 1) : undefined;
  if (format === AUTO) {
    if (logType !== undefined) out.nameLogType ??= logType;
  } else {
    if (format) out.format = format;
    if (logType !== undefined) out.logType = logType;
  }
  return out;
}

/** The hint for an input with a name: `format@name`, `auto@name`; a configured log type wins. */
export function nameHint(format: string | undefined, nameLogType: string | undefined): string | undefined {
  if (format?.includes(':') || nameLogType === undefined) return format;
  return `${format ?? AUTO}@${nameLogType}`;
}
