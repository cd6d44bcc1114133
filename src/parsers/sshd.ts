import type { Fields, InputRecord, ParsedRecord } from '../core/envelope.ts';
import { AttemptCounter } from './auth-attempts.ts';
import { accept, isBlank, looksBinary, reject, SKIPPED } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { pamLine, readSshdMessage, type SshdMessage } from './sshd-messages.ts';
import { parseSyslogHeader, type SyslogHeader } from './syslog-header.ts';

/**
 * sshd / auth.log: syslog lines (RFC 3164 with year inference, RFC 5424, ISO timestamps, and
 * journald's `host sshd[pid]: msg` without a timestamp). Messages of sshd and PAM are read by
 * sshd-messages.ts (addresses only from positions a client cannot forge) and give `event`,
 * `outcome` (success|failure|unknown), `user`, `src_ip` or `src_host`, `src_port`, `method`, and
 * `auth_attempts` (auth-attempts.ts: the login attempts the line adds, 0 for a repeat); sudo's
 * command lines are log type `sudo`. `message repeated N times: [ … ]` is N events. Any other
 * well-formed syslog line is accepted as log type `syslog` (from sshd: `auth`, event unset).
 */

// sudo: `vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls`, and with a
// failure reason before TTY (`tsg : user NOT in sudoers ; TTY=...`).
const SUDO_RE =
  /^(?<user>\S+) : (?:(?<reason>(?!TTY=|PWD=)[^;]*?) ; )?(?:TTY=(?<tty>\S+) ; )?PWD=(?<pwd>.*?) ; USER=(?<run_as>\S+) ; (?:[A-Z]+=\S* ; )*COMMAND=(?<command>.*)$/;

// journald's `journalctl -o cat`-less exports and fail2ban's sshd-journal: `host sshd[pid]: msg`,
// no timestamp (the event time is the ingest time).
const JOURNAL_RE = /^([^\s:[\]]+) ([^\s:[\]]+)\[(\d+)\]: (.*)$/;
// rsyslog's reduction: `message repeated 5 times: [ Failed password for root from … ssh2]`.
const REPEATED_RE = /^message repeated (\d+) times: \[ ?(.*)\]$/;
// Solaris' message id: `[ID 800047 auth.info] Failed keyboard-interactive for …`.
const SOLARIS_ID_RE = /^\[ID \d+ [\w.]+\] /;
const PREAUTH = ' [preauth]';
const PAM_UNIX_SUFFIX = '(pam_unix)';
/** rsyslog folds at most this many repeats into one line in practice; a bigger N is kept but capped. */
const MAX_REPEAT = 1000;

function isSshd(program: string | undefined): boolean {
  return program?.startsWith('sshd') === true;
}

function addSudo(raw: Fields, groups: Record<string, string | undefined>): void {
  for (const key in groups) {
    const v = groups[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
}

/** Takes off what wraps an sshd message: level words, Solaris ids, the ` [preauth]` marker. */
function unwrapMessage(message: string, raw: Fields): string {
  let msg = message;
  if (msg.charCodeAt(0) === 91 /* [ */) {
    const m = SOLARIS_ID_RE.exec(msg);
    if (m !== null) msg = msg.slice(m[0].length);
  }
  if (msg.startsWith('error: ')) {
    raw.log_level = 'error';
    msg = msg.slice(7);
  } else if (msg.startsWith('fatal: ')) {
    raw.log_level = 'fatal';
    msg = msg.slice(7);
  }
  if (msg.endsWith(PREAUTH)) {
    raw.preauth = true;
    msg = msg.slice(0, -PREAUTH.length);
  }
  return msg.endsWith(' ') ? msg.trimEnd() : msg;
}

class SshdParser implements Parser {
  readonly format = 'sshd';
  private readonly referenceTimeMs: number | undefined;
  private readonly attempts = new AttemptCounter();

  constructor(options: ParserOptions) {
    this.referenceTimeMs = options.referenceTimeMs;
  }

  parse(record: InputRecord): ParseResult {
    const text = record.text;
    if (isBlank(text)) return SKIPPED;
    const line = text.trimEnd();
    const header = parseSyslogHeader(line, this.referenceTimeMs ?? record.receivedAt) ?? journalHeader(line);
    if (header === undefined) return reject(looksBinary(text) ? 'binary_data' : 'unrecognized_line');
    const base: Fields = { host: header.host };
    if (header.timestamp !== '') base.timestamp = header.timestamp;
    if (header.program !== undefined) base.program = header.program;
    if (header.pid !== undefined) base.pid = header.pid;
    if (header.facility !== undefined) base.facility = header.facility;
    if (header.severity !== undefined) base.severity = header.severity;
    if (header.msgid !== undefined) base.msgid = header.msgid;
    if (header.structured_data !== undefined) base.structured_data = header.structured_data;
    const message = header.message;
    base.message = message;
    const eventTimeMs = Number.isNaN(header.eventTimeMs) ? undefined : header.eventTimeMs;
    const program = header.program;
    if (program === 'sudo') {
      const m = SUDO_RE.exec(message);
      if (m !== null) {
        base.event = 'sudo_command';
        addSudo(base, m.groups!);
        base.outcome = base.reason === undefined ? 'success' : 'failure';
        return accept('sshd', 'sudo', base, eventTimeMs);
      }
    }
    // `message repeated N times: [ <message> ]` is N events (ids: the line's position + index).
    if (message.charCodeAt(0) === 109 /* m */ && message.startsWith('message repeated ')) {
      const r = REPEATED_RE.exec(message);
      if (r !== null) {
        const n = Math.min(Number(r[1]), MAX_REPEAT);
        const records: ParsedRecord[] = [];
        for (let i = 0; i < n; i++) {
          const raw: Fields = { ...base, repeat_index: i, repeat_count: Number(r[1]) };
          const logType = this.classify(raw, r[2], program, eventTimeMs ?? record.receivedAt);
          records.push(
            eventTimeMs === undefined
              ? { source: 'sshd', log_type: logType, raw }
              : { source: 'sshd', log_type: logType, raw, eventTimeMs },
          );
        }
        if (n > 0) return { ok: true, records };
      }
    }
    const logType = this.classify(base, message, program, eventTimeMs ?? record.receivedAt);
    return accept('sshd', logType, base, eventTimeMs);
  }

  /** Reads an sshd or PAM message into raw; returns the log type (auth or syslog). */
  private classify(raw: Fields, message: string, program: string | undefined, timeMs: number): string {
    let service = program;
    let pamOnly = false;
    if (program?.endsWith(PAM_UNIX_SUFFIX)) {
      // Pre-2006 Linux-PAM: `sshd(pam_unix)[19939]: authentication failure; …`.
      service = program.slice(0, -PAM_UNIX_SUFFIX.length);
      raw.service = service;
      raw.pam_module = 'pam_unix';
      pamOnly = true;
    }
    const sshd = isSshd(service);
    let result: SshdMessage | undefined;
    if (sshd && !pamOnly) result = readSshdMessage(unwrapMessage(message, raw), raw);
    else {
      const c = message.charCodeAt(0);
      // PAM lines come from any program (su, login, vsftpd, …); sshd's own messages only from sshd.
      if (c === 112 /* p */ || c === 40 /* ( */ || c === 80 /* P */ || pamOnly)
        result = pamLine(message, raw, service);
      if (result !== undefined && raw.service === undefined && service !== undefined) raw.service = service;
    }
    if (result === undefined) return sshd ? 'auth' : 'syslog';
    raw.event = result.event;
    raw.outcome = result.outcome;
    if (result.attempt === undefined && result.closes !== true) return 'auth';
    const host = raw.host as string;
    const svc = service ?? '';
    const conn = connectionOf(raw);
    if (result.attempt !== undefined)
      raw.auth_attempts = this.attempts.count(
        host,
        svc,
        conn,
        result.attempt,
        result.attemptTotal ?? 0,
        timeMs,
      );
    if (result.closes === true) this.attempts.close(host, svc, conn);
    return 'auth';
  }
}

/** One connection of a logger: its process id; without a pid, the source (an approximation). */
function connectionOf(raw: Fields): number | string {
  if (typeof raw.pid === 'number') return raw.pid;
  return (raw.src_ip ?? raw.src_host ?? '') as string;
}

/** `host sshd[pid]: message` without a timestamp (journald exports). */
function journalHeader(line: string): SyslogHeader | undefined {
  const m = JOURNAL_RE.exec(line);
  if (m === null) return undefined;
  return {
    timestamp: '',
    eventTimeMs: Number.NaN,
    host: m[1],
    program: m[2],
    pid: Number(m[3]),
    message: m[4],
  };
}

const SAMPLE_PROGRAMS = /^(sshd(?:-session)?|sudo|su|login|pam|systemd-logind|CRON|cron)(?:\(pam_unix\))?$/;

export const sshd: ParserDefinition = {
  format: 'sshd',
  source: 'sshd',
  summary: 'sshd / auth.log syslog lines (RFC 3164, RFC 5424, ISO); auth events typed, others as syslog',
  detect(sampleLines) {
    let tried = 0;
    let syslog = 0;
    let auth = 0;
    const now = Date.now();
    for (const line of sampleLines) {
      if (isBlank(line)) continue;
      if (++tried > 20) break;
      const h = parseSyslogHeader(line.trimEnd(), now) ?? journalHeader(line.trimEnd());
      if (h === undefined) continue;
      syslog++;
      if (h.program !== undefined && SAMPLE_PROGRAMS.test(h.program)) auth++;
    }
    if (tried === 0) return 0;
    return auth > 0 ? 0.9 * (syslog / Math.min(tried, 20)) : 0.5 * (syslog / Math.min(tried, 20));
  },
  create(options = {}) {
    return new SshdParser(options);
  },
};
