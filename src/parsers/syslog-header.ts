import { isoToEpochMs, monthIndex } from './common.ts';

/**
 * The syslog header in front of sshd/auth.log lines (and nginx logs sent over syslog):
 * - RFC 3164 `Feb 12 14:10:21 host sshd[16378]: msg` (also `Nov 2`, `Aug 03`), optional `<PRI>`;
 *   it has no year: the year is inferred from a reference time (see inferYear);
 * - RFC 5424 `<38>1 2022-01-19T14:23:55+00:00 host sshd 44255 - [meta ...] msg`;
 * - ISO 8601 (rsyslog's RFC3339 template) `2023-11-14T00:20:42.738197+01:00 host sshd[1]: msg`.
 */
export interface SyslogHeader {
  /** The timestamp as written. */
  timestamp: string;
  eventTimeMs: number;
  host: string;
  program?: string;
  pid?: number;
  message: string;
  facility?: number;
  severity?: number;
  msgid?: string;
  structured_data?: string;
}

const PRI_RE = /^<(\d{1,3})>/;
const RFC3164_RE = /^(([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})) (\S+) ?(.*)$/;
const ISO_LINE_RE = /^(\d{4}-\d{2}-\d{2}T\S+) (\S+) ?(.*)$/;
const RFC5424_RE = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) ?(.*)$/;
const TAG_RE = /^([^\s:[\]]+)(?:\[(\d+)\])?: ?(.*)$/;

const DAY_MS = 86_400_000;
const FUTURE_TOLERANCE_MS = 2 * DAY_MS;

/**
 * RFC 3164 carries no year. Take the reference time's year (the receive time, or a file's
 * mtime): logs are written before they are read, so a date more than 2 days ahead of the
 * reference belongs to the previous year (a December line read in January: New Year rollover);
 * a date more than 334 days behind belongs to the next year (a January line stamped by a host
 * whose clock is ahead, read on December 31).
 */
export function inferYear(
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  referenceMs: number,
): number {
  const refYear = new Date(referenceMs).getUTCFullYear();
  const candidate = Date.UTC(refYear, month, day, h, m, s);
  if (candidate - referenceMs > FUTURE_TOLERANCE_MS) return Date.UTC(refYear - 1, month, day, h, m, s);
  if (referenceMs - candidate > 334 * DAY_MS) return Date.UTC(refYear + 1, month, day, h, m, s);
  return candidate;
}

function splitTag(rest: string, header: SyslogHeader): void {
  const t = TAG_RE.exec(rest);
  if (t === null) {
    header.message = rest;
    return;
  }
  header.program = t[1];
  if (t[2] !== undefined) header.pid = Number(t[2]);
  header.message = t[3].trimStart();
}

/** Structured data: `-` or one or more `[id k="v" ...]` elements; `]` inside values is escaped. */
function splitStructuredData(rest: string): { sd: string | undefined; message: string } {
  if (rest.startsWith('- ') || rest === '-') return { sd: undefined, message: rest.slice(2) };
  if (rest.charCodeAt(0) !== 91 /* [ */) return { sd: undefined, message: rest };
  let i = 0;
  let inQuotes = false;
  while (i < rest.length) {
    const c = rest.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34 /* " */) inQuotes = !inQuotes;
    else if (c === 93 /* ] */ && !inQuotes && rest.charCodeAt(i + 1) !== 91) break;
    i++;
  }
  return { sd: rest.slice(0, i + 1), message: rest.slice(i + 2) };
}

const nil = (v: string): string | undefined => (v === '-' ? undefined : v);

export function parseSyslogHeader(text: string, referenceMs: number): SyslogHeader | undefined {
  let line = text;
  let pri: number | undefined;
  const p = PRI_RE.exec(line);
  if (p !== null) {
    pri = Number(p[1]);
    line = line.slice(p[0].length);
  }
  let header: SyslogHeader | undefined;
  if (line.charCodeAt(0) === 49 /* 1 */ && line.charCodeAt(1) === 32 && pri !== undefined) {
    const m = RFC5424_RE.exec(line);
    if (m === null) return undefined;
    const eventTimeMs = isoToEpochMs(m[1]);
    if (eventTimeMs === undefined) return undefined;
    const { sd, message } = splitStructuredData(m[6]);
    header = { timestamp: m[1], eventTimeMs, host: m[2], message: message.replace(/^\uFEFF/, '') };
    const app = nil(m[3]);
    if (app !== undefined) header.program = app;
    const procid = nil(m[4]);
    if (procid !== undefined && /^\d+$/.test(procid)) header.pid = Number(procid);
    const msgid = nil(m[5]);
    if (msgid !== undefined) header.msgid = msgid;
    if (sd !== undefined) header.structured_data = sd;
  } else {
    const m = RFC3164_RE.exec(line);
    if (m !== null) {
      const month = monthIndex(m[2]);
      const day = Number(m[3]);
      if (month < 0 || day < 1 || day > 31) return undefined;
      const eventTimeMs = inferYear(month, day, +m[4], +m[5], +m[6], referenceMs);
      header = { timestamp: m[1], eventTimeMs, host: m[7], message: '' };
      splitTag(m[8], header);
    } else {
      const iso = ISO_LINE_RE.exec(line);
      if (iso === null) return undefined;
      const eventTimeMs = isoToEpochMs(iso[1]);
      if (eventTimeMs === undefined) return undefined;
      header = { timestamp: iso[1], eventTimeMs, host: iso[2], message: '' };
      splitTag(iso[3], header);
    }
  }
  if (pri !== undefined && pri <= 191) {
    header.facility = pri >> 3;
    header.severity = pri & 7;
  }
  return header;
}
