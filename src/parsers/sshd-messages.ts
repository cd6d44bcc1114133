import { isIP } from 'node:net';
import type { Fields } from '../core/envelope.ts';

/**
 * The messages of OpenSSH's sshd and of PAM (pam_unix) as they appear in auth.log, read into
 * fields. Every format string here is OpenSSH's or Linux-PAM's own (auth.c auth_log(),
 * packet.c sshpkt_vfatal(), auth-pam.c, pam_unix support.c); docs/parsers.md lists each family
 * with an example line.
 *
 * **A log line must not be able to forge its source.** The user name in these messages is chosen
 * by the client (`ssh 'x from 10.0.0.1 port 1 ssh2'@host`), so a source address is only ever
 * taken at a position the client cannot reach:
 * - where the attacker's text comes *before* the address (`Failed password for <user> from <ip>
 *   port <n> ssh2`, `Connection closed by invalid user <user> <ip> port <n> [preauth]`), the
 *   address is read from the fixed end of the line: the tail after the address must be exactly
 *   the server's fixed text, which a user name cannot extend;
 * - where it comes *after* (`Received disconnect from <ip> port <n>:11: <client's reason>`,
 *   `Unable to negotiate with <ip> port <n>: … Their offer: <client's list>`), the address is read
 *   right after the fixed start;
 * - where attacker text can lie on both sides (a certificate's key id after `ssh2: `, a PAM
 *   `ruser=` before `rhost=` and `user=` after it), every position that fits the grammar is tried
 *   and the address is kept only when exactly one fits; otherwise `src_ambiguous` is set and no
 *   address is given. A missing source is never a wrong one.
 * Addresses must pass node:net isIP (inet_pton: `192.030.0.6` is not an address); a host name in
 * a place that allows one (PAM rhost, `not allowed because`, tcp_wrappers) goes to `src_host`.
 */

export type Outcome = 'success' | 'failure' | 'unknown';

/** What one message adds to the attempt count of its connection (see auth-attempts.ts). */
export type AttemptKind = 'probe' | 'pam' | 'pam_total' | 'failed';

export interface SshdMessage {
  event: string;
  outcome: Outcome;
  /** How this line takes part in counting login attempts; absent when it does not. */
  attempt?: AttemptKind;
  /** For `pam_total` (`PAM 5 more authentication failures`): the failures PAM counted in all. */
  attemptTotal?: number;
  /** Marks the connection's end: its attempt counter can be dropped. */
  closes?: boolean;
}

const IPV4_MAPPED = '::ffff:';

/** `::ffff:192.0.2.1` is an IPv4 client on a dual-stack socket: report the IPv4 address. */
export function cleanIp(ip: string): string {
  return ip.length > 7 && ip.slice(0, 7).toLowerCase() === IPV4_MAPPED && ip.indexOf('.') !== -1
    ? ip.slice(7)
    : ip;
}

/** The address in canonical form when `text` is one (strict, inet_pton rules), else undefined. */
export function strictIp(text: string): string | undefined {
  const ip = cleanIp(text);
  return isIP(ip) !== 0 ? ip : undefined;
}

/** A place that may hold a host name or an address (PAM rhost, sshd's canonical host name). */
function setHostOrIp(raw: Fields, text: string): void {
  if (text === '') return;
  const ip = strictIp(text);
  if (ip !== undefined) raw.src_ip = ip;
  else raw.src_host = text;
}

// --- the tails (compiled once; sticky so they test a remainder without slicing it) -----------
// `<ip> port <n> ssh2` and its older shapes: `<ip> port <n>`, `<ip>` (fail2ban's and loghub's
// corpora hold all three), then the end of the message.
const AUTH_TAIL_END = /(\S+)(?: port (\d{1,5}))?(?: (ssh[12]))?$/y;
// `<ip> port <n> ssh2: <key info>` (publickey, hostbased, gssapi-with-mic add one).
const AUTH_TAIL_EXTRA = /(\S+) port (\d{1,5}) (ssh[12]): (.*)$/y;
// `<ip> port <n>` + optional suffix, end of message (connection closed/reset, timeout, ...).
const ADDR_PORT_END = /(\S+) port (\d{1,5})$/y;
// `<key type> <fingerprint>` or a certificate's `... ID <key id> (serial N) CA <type> <fp>`.
const KEY_INFO = /^(\S+) (\S+)(?: ID (.*) \(serial \d+\) CA \S+ \S+)?(?:, .*)?$/;

const SP_FROM_SP = ' from ';

interface Found {
  ip: string;
  port?: number;
  protocol?: string;
  extra?: string;
  /** Index where the separator before the address starts (the user name ends there). */
  at: number;
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/**
 * `… for <user> from <ip> port <n> ssh2[: <extra>]`: the address from the right. Candidates are
 * every ` from ` whose remainder is a valid tail; the rightmost end-anchored one is unique (a
 * remainder holding another ` from ` cannot match). When a line also has a `: <extra>` form that
 * fits, `extraAllowed` decides: methods OpenSSH never writes an extra for (password,
 * keyboard-interactive, none) take the end-anchored one only in its full modern shape; others
 * need exactly one candidate.
 */
function findAuthTail(msg: string, from: number, extraAllowed: boolean): Found | 'ambiguous' | undefined {
  let found: Found | undefined;
  let count = 0;
  let endAnchored: Found | undefined;
  for (
    let i = msg.lastIndexOf(SP_FROM_SP);
    i >= from;
    i = i === 0 ? -1 : msg.lastIndexOf(SP_FROM_SP, i - 1)
  ) {
    const start = i + SP_FROM_SP.length;
    AUTH_TAIL_END.lastIndex = start;
    let m = AUTH_TAIL_END.exec(msg);
    if (m !== null) {
      const ip = strictIp(m[1]);
      if (ip !== undefined && endAnchored === undefined) {
        endAnchored = { ip, port: portOf(m[2]), protocol: m[3], at: i };
        if (found === undefined) found = endAnchored;
        count++;
      }
      continue;
    }
    AUTH_TAIL_EXTRA.lastIndex = start;
    m = AUTH_TAIL_EXTRA.exec(msg);
    if (m === null) continue;
    const ip = strictIp(m[1]);
    if (ip === undefined) continue;
    if (extraAllowed && !KEY_INFO.test(m[4])) continue;
    count++;
    if (found === undefined) found = { ip, port: portOf(m[2]), protocol: m[3], extra: m[4], at: i };
  }
  if (count <= 1) return found;
  // Several fit. Without an extra in OpenSSH's format, the end is the server's text.
  if (!extraAllowed && endAnchored?.protocol !== undefined && endAnchored.port !== undefined)
    return endAnchored;
  return 'ambiguous';
}

const ADDR_END = /(\S+)$/y;

/**
 * `<prefix>[<preamble> <user> ]<ip> port <n>` then the end: the address is the space-free token
 * right before the fixed ` port <n>` tail (or, when the port is optional, the last token).
 */
function findAddrPortEnd(msg: string, from: number, optionalPort: boolean): Found | undefined {
  const p = msg.lastIndexOf(' port ');
  if (p >= from) {
    const start = Math.max(msg.lastIndexOf(' ', p - 1) + 1, from);
    ADDR_PORT_END.lastIndex = start;
    const m = ADDR_PORT_END.exec(msg);
    if (m !== null) {
      const ip = strictIp(m[1]);
      if (ip !== undefined) return { ip, port: portOf(m[2]), at: start - 1 };
    }
  }
  if (!optionalPort) return undefined;
  const start = Math.max(msg.lastIndexOf(' ') + 1, from);
  ADDR_END.lastIndex = start;
  const m = ADDR_END.exec(msg);
  if (m === null) return undefined;
  const ip = strictIp(m[1]);
  return ip === undefined ? undefined : { ip, at: start - 1 };
}

function putFound(raw: Fields, f: Found): void {
  raw.src_ip = f.ip;
  if (f.port !== undefined) raw.src_port = f.port;
  if (f.protocol !== undefined) raw.protocol = f.protocol;
}

const INVALID_USER = 'invalid user ';
const ILLEGAL_USER = 'illegal user ';

/** The user name between `start` and `end`, with OpenSSH's `invalid user ` marker taken off. */
function putUser(raw: Fields, msg: string, start: number, end: number, marker = true): void {
  let s = start;
  if (marker && (msg.startsWith(INVALID_USER, s) || msg.startsWith(ILLEGAL_USER, s))) {
    raw.invalid_user = true;
    s += INVALID_USER.length;
  }
  if (end < s) return;
  const user = msg.slice(s, end);
  // Solaris writes `<invalid username>` instead of the name.
  if (user === '<invalid username>') raw.invalid_user = true;
  else if (user !== '') raw.user = user;
}

// --- sshd's own messages ----------------------------------------------------------------------

/** auth_log's method → event: each method its own label; only password-like ones are guesses. */
const FAILED_EVENT: Readonly<Record<string, string>> = {
  password: 'failed_password',
  'keyboard-interactive': 'failed_keyboard_interactive',
  'challenge-response': 'failed_keyboard_interactive',
  publickey: 'failed_publickey',
  hostbased: 'failed_hostbased',
  none: 'failed_none',
  'gssapi-with-mic': 'failed_gssapi',
  'gssapi-keyex': 'failed_gssapi',
};
/** Methods whose failure is a guessed secret: counted as login attempts. */
const GUESS_METHODS: ReadonlySet<string> = new Set([
  'password',
  'keyboard-interactive',
  'challenge-response',
]);
/** Methods after which OpenSSH writes `: <key info>` (auth.c format_method_key). */
const EXTRA_METHODS: ReadonlySet<string> = new Set([
  'publickey',
  'hostbased',
  'gssapi-with-mic',
  'gssapi-keyex',
]);

const AUTH_RESULT = /^(Failed|Accepted|Postponed|Partial) (\S+) for /;

/** `Failed|Accepted|Postponed|Partial <method>[/<sub>] for [invalid user ]<user> from <ip> port <n> ssh2[: <extra>]` */
function authResult(msg: string, raw: Fields): SshdMessage | undefined {
  const m = AUTH_RESULT.exec(msg);
  if (m === null) return undefined;
  const verdict = m[1];
  const fullMethod = m[2];
  const slash = fullMethod.indexOf('/');
  const method = slash === -1 ? fullMethod : fullMethod.slice(0, slash);
  raw.method = fullMethod;
  const userStart = m[0].length;
  const found = findAuthTail(msg, userStart - 1, EXTRA_METHODS.has(method));
  if (found === 'ambiguous') {
    raw.src_ambiguous = true;
    if (msg.startsWith(INVALID_USER, userStart)) raw.invalid_user = true;
  } else if (found !== undefined) {
    putFound(raw, found);
    putUser(raw, msg, userStart, found.at);
    if (found.extra !== undefined) {
      const k = KEY_INFO.exec(found.extra);
      if (k !== null) {
        raw.key_type = k[1];
        raw.key_fingerprint = k[2];
        if (k[3] !== undefined) raw.key_id = k[3];
      } else raw.auth_info = found.extra;
    }
  } else {
    // No address where OpenSSH writes one: keep what is certain (the method and verdict).
    if (msg.startsWith(INVALID_USER, userStart)) raw.invalid_user = true;
  }
  if (verdict === 'Accepted') return { event: 'accepted', outcome: 'success' };
  if (verdict === 'Postponed') return { event: 'postponed', outcome: 'unknown' };
  if (verdict === 'Partial') return { event: 'partial_auth', outcome: 'unknown' };
  const event = FAILED_EVENT[method] ?? 'failed_other';
  if (GUESS_METHODS.has(method)) return { event, outcome: 'failure', attempt: 'failed' };
  // `Failed none` (the client asking which methods exist) and rejected keys guess no secret; for
  // an unknown user the same connection's `Invalid user` line already counts the try.
  return { event, outcome: 'failure' };
}

/** A message whose address comes from the right end, after a fixed prefix and an attacker's text. */
interface TailRule {
  prefix: string;
  message: SshdMessage;
  /** How the user name (if any) sits between the prefix and the address. */
  user: 'none' | 'for' | 'state' | 'user';
  /** `from` = `... from <ip>[ port <n>]`; `addr` = `... <ip> port <n>`. */
  tail: 'from' | 'addr' | 'addr_opt_port';
}

const CONN_END: SshdMessage = { event: 'connection_closed', outcome: 'unknown', closes: true };
const CLOSED_PREAUTH: SshdMessage = { event: 'closed_preauth', outcome: 'failure', closes: true };

// `Connection closed by`, `Connection reset by`, `Disconnected from` share one remote_id
// (packet.c sshpkt_fmt_connection_id): `[authenticating user <u> |invalid user <u> ]<ip> port <n>`.
const REMOTE_ID_PREFIXES = ['Connection closed by ', 'Connection reset by ', 'Disconnected from '] as const;
const STATE_AUTHENTICATING = 'authenticating user ';
const STATE_USER = 'user ';

/** `Connection closed by [authenticating user <u> |invalid user <u> ]<ip>[ port <n>]` */
function remoteIdMessage(msg: string, raw: Fields): SshdMessage | undefined {
  for (const prefix of REMOTE_ID_PREFIXES) {
    if (!msg.startsWith(prefix)) continue;
    const s = prefix.length;
    let result = CONN_END;
    let userStart = -1;
    if (msg.startsWith(STATE_AUTHENTICATING, s)) {
      userStart = s + STATE_AUTHENTICATING.length;
      result = CLOSED_PREAUTH;
    } else if (msg.startsWith(INVALID_USER, s)) {
      raw.invalid_user = true;
      userStart = s + INVALID_USER.length;
      result = CLOSED_PREAUTH;
    } else if (msg.startsWith(STATE_USER, s)) {
      // `Disconnected from user <u> <ip> port <n>`: the end of an authenticated session.
      userStart = s + STATE_USER.length;
      result = SESSION_CLOSED_CONN;
    }
    // Any preamble (a build's own state word included): the address is read from the end.
    const found = findAddrPortEnd(msg, userStart === -1 ? s : userStart, userStart === -1);
    if (found === undefined) return result;
    putFound(raw, found);
    if (userStart !== -1 && found.at > userStart) raw.user = msg.slice(userStart, found.at);
    return result;
  }
  return undefined;
}

const SESSION_CLOSED_CONN: SshdMessage = { event: 'session_closed', outcome: 'unknown', closes: true };

const TAIL_RULES: readonly TailRule[] = [
  {
    prefix: 'Invalid user ',
    user: 'user',
    tail: 'from',
    message: { event: 'invalid_user', outcome: 'failure', attempt: 'probe' },
  },
  {
    prefix: 'maximum authentication attempts exceeded for ',
    user: 'for',
    tail: 'from',
    message: { event: 'max_auth_attempts', outcome: 'failure' },
  },
  {
    prefix: 'Timeout before authentication for ',
    user: 'none',
    tail: 'addr',
    message: { event: 'preauth_timeout', outcome: 'failure', closes: true },
  },
  {
    prefix: 'Did not receive identification string from ',
    user: 'none',
    tail: 'addr_opt_port',
    message: { event: 'no_identification', outcome: 'failure', closes: true },
  },
  {
    prefix: 'ROOT LOGIN REFUSED FROM ',
    user: 'none',
    tail: 'addr_opt_port',
    message: { event: 'user_not_allowed', outcome: 'failure', attempt: 'probe' },
  },
];

function tailRule(msg: string, raw: Fields): SshdMessage | undefined {
  for (const rule of TAIL_RULES) {
    if (!msg.startsWith(rule.prefix)) continue;
    const s = rule.prefix.length;
    if (rule.prefix === 'ROOT LOGIN REFUSED FROM ') raw.user = 'root';
    if (rule.tail === 'from') {
      const found = findAuthTail(msg, s - 1, false);
      if (found === 'ambiguous') raw.src_ambiguous = true;
      else if (found !== undefined) {
        putFound(raw, found);
        if (rule.user === 'user') {
          raw.invalid_user = true;
          putUser(raw, msg, s, found.at, false);
        } else putUser(raw, msg, s, found.at);
      }
      return rule.message;
    }
    // No user name in these: the address must follow the prefix directly.
    const found = findAddrPortEnd(msg, s, rule.tail === 'addr_opt_port');
    if (found !== undefined && found.at === s - 1) putFound(raw, found);
    return rule.message;
  }
  return undefined;
}

// Messages where the address follows a fixed start and the client's text comes after it.
const HEAD_RULES: ReadonlyArray<{ re: RegExp; message: SshdMessage }> = [
  // packet.c: `Received disconnect from %s port %d:%u: %.400s`; older: `from %s: %u: %s`.
  {
    re: /^Received disconnect from (\S+?)(?: port (\d{1,5}):|: )(?<code>\d+):(?: (?<reason>.*))?$/,
    message: { event: 'disconnect', outcome: 'unknown', closes: true },
  },
  {
    re: /^Unable to negotiate with (\S+?)(?: port (\d{1,5}))?: (?<reason>.*)$/,
    message: { event: 'negotiation_failed', outcome: 'failure', closes: true },
  },
  {
    re: /^banner exchange: Connection from (\S+) port (\d{1,5}): (?<reason>.*)$/,
    message: { event: 'bad_banner', outcome: 'failure', closes: true },
  },
  {
    re: /^ssh_dispatch_run_fatal: Connection from (\S+) port (\d{1,5}): (?<reason>.*)$/,
    message: { event: 'protocol_error', outcome: 'failure', closes: true },
  },
  {
    re: /^Magic value check failed \(\d+\) on obfuscated handshake from (\S+) port (\d{1,5})/,
    message: { event: 'bad_handshake', outcome: 'failure' },
  },
  {
    re: /^Connection from (\S+) port (\d{1,5}) on (?<dst_ip>\S+) port (?<dst_port>\d{1,5})/,
    message: { event: 'connection', outcome: 'unknown' },
  },
  // `Timeout before authentication for connection from <ip> to <ip>, pid = N` (some builds).
  {
    re: /^Timeout before authentication for connection from (\S+) to (?<dst_ip>[^\s,]+),/,
    message: { event: 'preauth_timeout', outcome: 'failure', closes: true },
  },
  {
    re: /^Address (\S+) maps to (?<src_host>\S+), but this does not map back to the address/,
    message: { event: 'reverse_mapping_failed', outcome: 'unknown' },
  },
];

function headRule(msg: string, raw: Fields): SshdMessage | undefined {
  for (const rule of HEAD_RULES) {
    const m = rule.re.exec(msg);
    if (m === null) continue;
    const ip = strictIp(m[1]);
    if (ip !== undefined) {
      raw.src_ip = ip;
      const port = portOf(m[2]);
      if (port !== undefined) raw.src_port = port;
    }
    const g = m.groups;
    if (g !== undefined) {
      if (g.reason !== undefined) raw.reason = g.reason;
      if (g.src_host !== undefined) raw.src_host = g.src_host;
      if (g.dst_ip !== undefined) {
        const dst = strictIp(g.dst_ip);
        if (dst !== undefined) raw.dst_ip = dst;
      }
      if (g.dst_port !== undefined) raw.dst_port = Number(g.dst_port);
    }
    return rule.message;
  }
  return undefined;
}

// Messages whose end is fixed server text and whose address (or host) sits right before it.
const REVERSE_MAPPING_END = '] failed - POSSIBLE BREAK-IN ATTEMPT!';
const NOT_ALLOWED = ' not allowed because ';

function endRule(msg: string, raw: Fields): SshdMessage | undefined {
  // `reverse mapping checking getaddrinfo for <PTR name> [<ip>] failed - POSSIBLE BREAK-IN ATTEMPT!`
  if (msg.startsWith('reverse mapping checking getaddrinfo for ') && msg.endsWith(REVERSE_MAPPING_END)) {
    const end = msg.length - REVERSE_MAPPING_END.length;
    const open = msg.lastIndexOf(' [', end);
    if (open !== -1) {
      const ip = strictIp(msg.slice(open + 2, end));
      if (ip !== undefined) raw.src_ip = ip;
      raw.src_host = msg.slice('reverse mapping checking getaddrinfo for '.length, open);
    }
    return { event: 'reverse_mapping_failed', outcome: 'unknown' };
  }
  // auth.c: `User %.100s from %.100s not allowed because <fixed reason>`.
  if (msg.startsWith('User ')) {
    const nb = msg.lastIndexOf(NOT_ALLOWED);
    if (nb === -1) return undefined;
    const from = msg.lastIndexOf(SP_FROM_SP, nb);
    raw.reason = `not allowed because ${msg.slice(nb + NOT_ALLOWED.length)}`;
    if (from !== -1 && from >= 4 && msg.indexOf(' ', from + SP_FROM_SP.length) === nb) {
      setHostOrIp(raw, msg.slice(from + SP_FROM_SP.length, nb));
      raw.user = msg.slice(5, from);
    } else raw.user = msg.slice(5, nb);
    return { event: 'user_not_allowed', outcome: 'failure', attempt: 'probe' };
  }
  // tcp_wrappers: `refused connect from <host or user@host> (<ip>)`.
  if (msg.startsWith('refused connect from ') && msg.endsWith(')')) {
    const open = msg.lastIndexOf(' (');
    if (open !== -1) {
      const ip = strictIp(msg.slice(open + 2, -1));
      if (ip !== undefined) raw.src_ip = ip;
      raw.src_host = msg.slice('refused connect from '.length, open);
    }
    return { event: 'connection_refused', outcome: 'failure' };
  }
  // `Close session: user <u> from <ip> port <n> id <n>`
  if (msg.startsWith('Close session: user ')) {
    const m = CLOSE_SESSION_TAIL.exec(msg);
    if (m !== null) {
      const ip = strictIp(m[2]);
      if (ip !== undefined) {
        raw.src_ip = ip;
        raw.src_port = Number(m[3]);
        raw.user = m[1];
      }
    }
    return { event: 'session_closed', outcome: 'unknown' };
  }
  return undefined;
}
// The name can hold spaces; the tail cannot: the greedy name stops at the last ` from `.
const CLOSE_SESSION_TAIL = /^Close session: user (.*) from (\S+) port (\d{1,5}) id \d+$/;

// auth-pam.c: `error: PAM: <pam_strerror> for [illegal user ]<user> from <host>` (the rhost PAM
// was given: a name or an address); macOS adds ` via <local address>`.
const PAM_ERROR = /^PAM: ([A-Za-z][^:]*?) for /;
const PAM_ERROR_TAIL = /(\S+)(?: via (\S+))?$/y;

function pamError(msg: string, raw: Fields): SshdMessage | undefined {
  const m = PAM_ERROR.exec(msg);
  if (m === null) return undefined;
  raw.reason = m[1];
  const userStart = m[0].length;
  const from = msg.lastIndexOf(SP_FROM_SP);
  if (from >= userStart - 1) {
    PAM_ERROR_TAIL.lastIndex = from + SP_FROM_SP.length;
    const t = PAM_ERROR_TAIL.exec(msg);
    if (t !== null) {
      setHostOrIp(raw, t[1]);
      putUser(raw, msg, userStart, from);
    }
  }
  const failure = /^authentication (?:failure|error)$/i.test(m[1]) || /not known|unknown user/i.test(m[1]);
  return failure
    ? { event: 'auth_failure', outcome: 'failure', attempt: 'pam' }
    : { event: 'pam_error', outcome: 'failure' };
}

/**
 * One sshd message (the syslog header, `error: `/`fatal: ` and ` [preauth]` already taken off)
 * into `raw`; undefined when it is not an authentication message.
 */
export function readSshdMessage(msg: string, raw: Fields): SshdMessage | undefined {
  const c = msg.charCodeAt(0);
  // A first-character dispatch keeps the common lines off the long tail of prefixes.
  if (c === 112 /* p */) return pamLine(msg, raw, 'sshd');
  if (c === 70 /* F */ || c === 65 /* A */ || c === 80 /* P */) {
    const r = authResult(msg, raw);
    if (r !== undefined) return r;
    if (c === 80) return pamError(msg, raw) ?? pamLine(msg, raw, 'sshd');
    return headRule(msg, raw);
  }
  // The frequent families first by their first letter; anything else walks the whole chain.
  if (c === 73 /* I */ || c === 109 /* m */) {
    const r = tailRule(msg, raw);
    if (r !== undefined) return r;
  } else if (c === 82 /* R */ || c === 85 /* U */ || c === 98 /* b */ || c === 115 /* s */) {
    const r = headRule(msg, raw);
    if (r !== undefined) return r;
  }
  return (
    remoteIdMessage(msg, raw) ??
    tailRule(msg, raw) ??
    headRule(msg, raw) ??
    endRule(msg, raw) ??
    otherSshd(msg, raw)
  );
}

const INPUT_USERAUTH = 'input_userauth_request: invalid user ';
const TOO_MANY =
  /^Disconnecting(?: (?:authenticating|invalid) user .*)?: Too many authentication failures(?: for (?<user>.*))?$/;

function otherSshd(msg: string, raw: Fields): SshdMessage | undefined {
  // `input_userauth_request: invalid user <u>`: the same probe as `Invalid user`, without address.
  if (msg.startsWith(INPUT_USERAUTH)) {
    raw.invalid_user = true;
    const user = msg.slice(INPUT_USERAUTH.length);
    if (user !== '') raw.user = user;
    return { event: 'invalid_user_request', outcome: 'failure' };
  }
  if (msg.startsWith('Disconnecting')) {
    const m = TOO_MANY.exec(msg);
    if (m !== null) {
      if (m.groups?.user !== undefined) raw.user = m.groups.user;
      return { event: 'too_many_failures', outcome: 'failure', closes: true };
    }
  }
  return pamLine(msg, raw, 'sshd');
}

// --- PAM ------------------------------------------------------------------------------------

const PAM_UNIX_AUTH = /^pam_unix\((?<service>[^:)]+)(?::auth)?\): authentication failure;/;
const PAM_OLD_AUTH = /^(?:\(pam_unix\) )?authentication failure;/;
const PAM_MORE = /^PAM (\d+) more authentication failures?;/;
const PAM_SESSION =
  /^(?:pam_unix\((?<service>[^:)]+):session\): |\(pam_unix\) )?session (?<what>opened|closed) for user (?<user>\S+?)(?:\(uid=\d+\))?(?: by (?<by>.*))?$/;
const PAM_MAX_RETRIES = /^PAM service\((?<service>[^)]+)\) ignoring max retries; (?<tries>\d+) > \d+$/;
const PAM_CHECK_PASS = /^(?:pam_unix\([^)]*\): )?check pass; user (?<user>.*)$/;

/**
 * pam_unix's `authentication failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s[ user=%s]`
 * (support.c). `user` is client-chosen, and so is `ruser` for some services (not sshd: it never
 * sets PAM_RUSER); both may hold ` rhost=`. For sshd the real rhost is the one right after
 * `ruser=`; otherwise it is the only ` rhost=<token>` followed by the end or ` user=` (several:
 * `src_ambiguous`, no source). The user is everything after that ` user=`.
 */
export function readPamPairs(raw: Fields, text: string, start: number, sshdService: boolean): void {
  const logname = text.indexOf(' logname=', start - 1);
  if (logname !== -1) {
    const end = text.indexOf(' uid=', logname);
    const v = text.slice(logname + 9, end === -1 ? undefined : end);
    if (v !== '') raw.pam_logname = v;
  }
  const tty = text.indexOf(' tty=', start - 1);
  if (tty !== -1) {
    const end = text.indexOf(' ', tty + 5);
    const v = text.slice(tty + 5, end === -1 ? undefined : end);
    if (v !== '') raw.pam_tty = v;
  }
  const ruser = text.indexOf(' ruser=', start - 1);
  let rhostAt = -1;
  let ambiguous = false;
  if (sshdService && ruser !== -1 && text.startsWith(' rhost=', ruser + 7)) {
    rhostAt = ruser + 7; // empty ruser: nothing client-chosen before rhost
  } else {
    for (
      let i = text.indexOf(' rhost=', ruser === -1 ? start - 1 : ruser);
      i !== -1;
      i = text.indexOf(' rhost=', i + 1)
    ) {
      if (!rhostFits(text, i)) continue;
      if (rhostAt !== -1) ambiguous = true;
      rhostAt = i;
    }
    if (ruser !== -1 && rhostAt !== -1 && !ambiguous && rhostAt > ruser + 7)
      raw.pam_ruser = text.slice(ruser + 7, rhostAt);
  }
  if (ambiguous) {
    raw.src_ambiguous = true;
    return;
  }
  if (rhostAt === -1) return;
  const valueStart = rhostAt + 7;
  let valueEnd = text.indexOf(' ', valueStart);
  if (valueEnd === -1) valueEnd = text.length;
  const rhost = text.slice(valueStart, valueEnd);
  if (rhost !== '') {
    raw.pam_rhost = rhost;
    setHostOrIp(raw, rhost);
  }
  let u = valueEnd;
  while (text.charCodeAt(u) === 32) u++;
  if (text.startsWith('user=', u)) {
    const user = text.slice(u + 5);
    if (user !== '') raw.user = user;
  }
}

/** A ` rhost=<token>` followed by the end of the line or by ` user=`. */
function rhostFits(text: string, at: number): boolean {
  let e = text.indexOf(' ', at + 7);
  if (e === -1) return true;
  while (text.charCodeAt(e) === 32) e++;
  return e === text.length || text.startsWith('user=', e);
}

/**
 * PAM lines (from sshd or any other program, modern and pre-2006 `(pam_unix)` forms); `service`
 * is the logging program's (sshd, su, vsftpd) when the message does not name one.
 */
export function pamLine(msg: string, raw: Fields, service: string | undefined): SshdMessage | undefined {
  const c = msg.charCodeAt(0);
  if (
    c !== 112 /* p */ &&
    c !== 97 /* a */ &&
    c !== 40 /* ( */ &&
    c !== 80 /* P */ &&
    c !== 115 /* s */ &&
    c !== 99 /* c */
  )
    return undefined;
  let m = PAM_UNIX_AUTH.exec(msg);
  if (m !== null) {
    raw.service = m.groups!.service;
    readPamPairs(raw, msg, m[0].length, m.groups!.service === 'sshd');
    return { event: 'auth_failure', outcome: 'failure', attempt: 'pam' };
  }
  const sshdService = service?.startsWith('sshd') === true;
  m = PAM_OLD_AUTH.exec(msg);
  if (m !== null) {
    readPamPairs(raw, msg, m[0].length, sshdService);
    return { event: 'auth_failure', outcome: 'failure', attempt: 'pam' };
  }
  m = PAM_MORE.exec(msg);
  if (m !== null) {
    raw.repeat_count = Number(m[1]);
    readPamPairs(raw, msg, m[0].length, sshdService);
    return {
      event: 'auth_failures_repeated',
      outcome: 'failure',
      attempt: 'pam_total',
      attemptTotal: Number(m[1]) + 1,
    };
  }
  m = PAM_SESSION.exec(msg);
  if (m !== null) {
    const g = m.groups!;
    if (g.service !== undefined) raw.service = g.service;
    raw.user = g.user;
    if (g.by !== undefined && g.by !== '') raw.by = g.by;
    return g.what === 'opened'
      ? { event: 'session_opened', outcome: 'success' }
      : { event: 'session_closed', outcome: 'unknown' };
  }
  m = PAM_MAX_RETRIES.exec(msg);
  if (m !== null) {
    // libpam at pam_end: the module asked for more retries than the service allows (a summary).
    raw.service = m.groups!.service;
    raw.repeat_count = Number(m.groups!.tries);
    return { event: 'pam_max_retries', outcome: 'failure' };
  }
  m = PAM_CHECK_PASS.exec(msg);
  if (m !== null) {
    const user = m.groups!.user;
    if (user === 'unknown') raw.invalid_user = true;
    else raw.user = user;
    return { event: 'check_pass', outcome: 'unknown' };
  }
  return undefined;
}
