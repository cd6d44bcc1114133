import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isBlank, looksBinary, reject, SKIPPED } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { parseSyslogHeader } from './syslog-header.ts';

/**
 * sshd / auth.log: syslog lines (RFC 3164 with year inference, RFC 5424, ISO timestamps).
 * Authentication messages of sshd, PAM and sudo are recognised by a table of patterns (compiled
 * once) and give `event`, `outcome` (success|failure|unknown), `user`, `src_ip`, `src_port`,
 * `method`; log type `auth` (sshd and PAM) or `sudo`. Any other well-formed syslog line is
 * accepted as log type `syslog`: it is still an event, only not an authentication one.
 */

interface MessagePattern {
  event: string;
  outcome: 'success' | 'failure' | 'unknown';
  re: RegExp;
}

// Order matters: the first match wins. Named groups become raw fields (src_port as a number).
const IP = String.raw`(?<src_ip>[0-9A-Fa-f:.]+|\S+?)`;
const SSHD_PATTERNS: readonly MessagePattern[] = [
  {
    event: 'failed_password',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^Failed (?<method>\S+) for (?<invalid>invalid user )?(?<user>.*?) from ${IP} port (?<src_port>\d+)(?: (?<protocol>ssh2))?`,
    ),
  },
  {
    event: 'accepted',
    outcome: 'success',
    re: new RegExp(
      String.raw`^Accepted (?<method>\S+) for (?<user>\S+) from ${IP} port (?<src_port>\d+)(?: (?<protocol>ssh2))?(?:: (?<key_type>\S+) (?<key_fingerprint>\S+))?`,
    ),
  },
  {
    event: 'invalid_user',
    outcome: 'failure',
    re: new RegExp(String.raw`^Invalid user (?<user>.*?) from ${IP}(?: port (?<src_port>\d+))?\s*$`),
  },
  {
    event: 'closed_preauth',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^(?:Connection closed|Connection reset|Disconnected from) (?:by )?(?<state>authenticating|invalid) user (?<user>\S+) ${IP} port (?<src_port>\d+)`,
    ),
  },
  {
    event: 'max_auth_attempts',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^(?:error: )?maximum authentication attempts exceeded for (?<invalid>invalid user )?(?<user>\S+) from ${IP} port (?<src_port>\d+)`,
    ),
  },
  {
    event: 'auth_failure',
    outcome: 'failure',
    re: /^error: PAM: Authentication failure for (?<invalid>(?:illegal|invalid) user )?(?<user>\S+) from (?<src_ip>\S+)/,
  },
  {
    // `PAM 5 more authentication failures; logname= uid=0 ... rhost=1.2.3.4 user=root`
    event: 'auth_failures_repeated',
    outcome: 'failure',
    re: /^PAM (?<repeat_count>\d+) more authentication failures?;(?<kv>.*)$/,
  },
  {
    event: 'user_not_allowed',
    outcome: 'failure',
    re: new RegExp(String.raw`^User (?<user>\S+) from ${IP} not allowed because (?<reason>.*)$`),
  },
  {
    event: 'auth_failure',
    outcome: 'failure',
    re: /^pam_unix\((?<service>[^:)]+):auth\): authentication failure;(?<kv>.*)$/,
  },
  {
    event: 'session_opened',
    outcome: 'success',
    re: /^pam_unix\((?<service>[^:)]+):session\): session opened for user (?<user>\S+?)(?:\(uid=\d+\))?(?: by (?<by>.*))?$/,
  },
  {
    event: 'session_closed',
    outcome: 'unknown',
    re: /^pam_unix\((?<service>[^:)]+):session\): session closed for user (?<user>\S+)/,
  },
  {
    event: 'preauth_timeout',
    outcome: 'failure',
    re: new RegExp(String.raw`^fatal: Timeout before authentication for ${IP} port (?<src_port>\d+)`),
  },
  {
    event: 'negotiation_failed',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^Unable to negotiate with ${IP} port (?<src_port>\d+): (?<reason>.*?)(?: \[preauth\])?\s*$`,
    ),
  },
  {
    event: 'no_identification',
    outcome: 'failure',
    re: new RegExp(String.raw`^Did not receive identification string from ${IP}(?: port (?<src_port>\d+))?`),
  },
  {
    event: 'bad_banner',
    outcome: 'failure',
    re: new RegExp(String.raw`^banner exchange: Connection from ${IP} port (?<src_port>\d+): (?<reason>.*)$`),
  },
  {
    event: 'protocol_error',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^ssh_dispatch_run_fatal: Connection from ${IP} port (?<src_port>\d+): (?<reason>.*?)(?: \[preauth\])?$`,
    ),
  },
  {
    event: 'bad_handshake',
    outcome: 'failure',
    re: new RegExp(
      String.raw`^Magic value check failed \(\d+\) on obfuscated handshake from ${IP} port (?<src_port>\d+)`,
    ),
  },
  {
    event: 'connection_refused',
    outcome: 'failure',
    re: /^refused connect from (?<src_host>\S+) \((?<src_ip>[^)]+)\)/,
  },
  {
    event: 'connection_closed',
    outcome: 'unknown',
    re: new RegExp(
      String.raw`^(?:Connection closed by|Connection reset by|Disconnected from) ${IP} port (?<src_port>\d+)`,
    ),
  },
  {
    event: 'session_closed',
    outcome: 'unknown',
    re: new RegExp(String.raw`^Disconnected from user (?<user>\S+) ${IP} port (?<src_port>\d+)`),
  },
  {
    event: 'connection',
    outcome: 'unknown',
    re: new RegExp(
      String.raw`^Connection from ${IP} port (?<src_port>\d+) on (?<dst_ip>\S+) port (?<dst_port>\d+)`,
    ),
  },
  {
    event: 'disconnect',
    outcome: 'unknown',
    re: new RegExp(String.raw`^Received disconnect from ${IP} port (?<src_port>\d+)`),
  },
  {
    event: 'session_closed',
    outcome: 'unknown',
    re: new RegExp(String.raw`^Close session: user (?<user>\S+) from ${IP} port (?<src_port>\d+)`),
  },
];

// sudo: `vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls`, and with a
// failure reason before TTY (`tsg : user NOT in sudoers ; TTY=...`).
const SUDO_RE =
  /^(?<user>\S+) : (?:(?<reason>(?!TTY=|PWD=)[^;]*?) ; )?(?:TTY=(?<tty>\S+) ; )?PWD=(?<pwd>.*?) ; USER=(?<run_as>\S+) ; (?:[A-Z]+=\S* ; )*COMMAND=(?<command>.*)$/;
const KV_RE = /(\w+)=(\S*)/g;

const IPV4_MAPPED = '::ffff:';

/** `::ffff:192.0.2.1` is an IPv4 client on a dual-stack socket: report the IPv4 address. */
function cleanIp(ip: string): string {
  return ip.length > 7 && ip.slice(0, 7).toLowerCase() === IPV4_MAPPED && ip.indexOf('.') !== -1
    ? ip.slice(7)
    : ip;
}

function addGroups(raw: Fields, groups: Record<string, string | undefined>): void {
  for (const key in groups) {
    const v = groups[key];
    if (v === undefined || v === '') continue;
    if (key === 'src_port' || key === 'dst_port' || key === 'repeat_count') raw[key] = Number(v);
    else if (key === 'src_ip') raw.src_ip = cleanIp(v);
    else if (key === 'invalid') raw.invalid_user = true;
    else if (key === 'state') {
      if (v === 'invalid') raw.invalid_user = true;
    } else if (key === 'kv') addPamPairs(raw, v);
    else raw[key] = v;
  }
}

/** `logname= uid=0 euid=0 tty=ssh ruser= rhost=5.33.63.160 user=workshop` */
function addPamPairs(raw: Fields, kv: string): void {
  KV_RE.lastIndex = 0;
  for (let m = KV_RE.exec(kv); m !== null; m = KV_RE.exec(kv)) {
    if (m[2] === '') continue;
    raw[`pam_${m[1]}`] = m[2];
    if (m[1] === 'user') raw.user = m[2];
    else if (m[1] === 'rhost') raw.src_ip = cleanIp(m[2]);
  }
}

function isSshd(program: string | undefined): boolean {
  return program?.startsWith('sshd') === true;
}

class SshdParser implements Parser {
  readonly format = 'sshd';
  private readonly referenceTimeMs: number | undefined;

  constructor(options: ParserOptions) {
    this.referenceTimeMs = options.referenceTimeMs;
  }

  parse(record: InputRecord): ParseResult {
    const text = record.text;
    if (isBlank(text)) return SKIPPED;
    const header = parseSyslogHeader(text.trimEnd(), this.referenceTimeMs ?? record.receivedAt);
    if (header === undefined) return reject(looksBinary(text) ? 'binary_data' : 'unrecognized_line');
    const raw: Fields = { timestamp: header.timestamp, host: header.host };
    if (header.program !== undefined) raw.program = header.program;
    if (header.pid !== undefined) raw.pid = header.pid;
    if (header.facility !== undefined) raw.facility = header.facility;
    if (header.severity !== undefined) raw.severity = header.severity;
    if (header.msgid !== undefined) raw.msgid = header.msgid;
    if (header.structured_data !== undefined) raw.structured_data = header.structured_data;
    const message = header.message;
    raw.message = message;
    let logType = 'syslog';
    if (header.program === 'sudo') {
      const m = SUDO_RE.exec(message);
      if (m !== null) {
        logType = 'sudo';
        raw.event = 'sudo_command';
        addGroups(raw, m.groups!);
        raw.outcome = raw.reason === undefined ? 'success' : 'failure';
        return accept('sshd', logType, raw, header.eventTimeMs);
      }
    }
    // PAM lines come from any program (sshd, sudo, su, login); sshd's own messages only from sshd.
    const pam = message.startsWith('pam_');
    if (pam || isSshd(header.program)) {
      for (const pattern of SSHD_PATTERNS) {
        const m = pattern.re.exec(message);
        if (m === null) continue;
        raw.event = pattern.event;
        raw.outcome = pattern.outcome;
        addGroups(raw, m.groups!);
        logType = 'auth';
        break;
      }
      if (isSshd(header.program)) logType = 'auth';
    }
    return accept('sshd', logType, raw, header.eventTimeMs);
  }
}

const SAMPLE_PROGRAMS = /^(sshd(?:-session)?|sudo|su|login|pam|systemd-logind|CRON|cron)$/;

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
      const h = parseSyslogHeader(line.trimEnd(), now);
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
