import { isIP } from 'node:net';
import { z } from 'zod';
import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isBlank, looksBinary, monthIndex, reject, SKIPPED } from './common.ts';
import { type CompiledLogFormat, compileLogFormat } from './nginx-log-format.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { parseSyslogHeader } from './syslog-header.ts';

/**
 * nginx access logs (combined and common, which Apache shares) and error logs.
 *
 * Access lines may carry, before the client address, a virtual-host prefix (`example.com:80 `)
 * and an X-Forwarded-For chain (`10.0.0.2, 10.0.0.1, 127.0.0.1`, possibly quoted); the last
 * address is `remote_addr`, the ones before it `x_forwarded_for`. The client may be `unix:`.
 * `\xNN` escapes (nginx's encoding of binary request bytes) are kept as written, so the raw
 * text is lossless. `-` (nginx's "no value") makes a field absent; an empty request `""` stays ''.
 * Raw keys are nginx variable names (remote_addr, request, status, ...), the same ones a custom
 * `log_format` produces, so one mapping serves both. Nginx Proxy Manager's own layouts are
 * recognised too (NPM_RE).
 */

export const nginxSettings = z
  .object({
    log_format: z
      .string()
      .optional()
      .describe('A custom access layout as an nginx log_format string; tried before combined/common'),
  })
  .strict();

const TIME_LOCAL = String.raw`(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})`;
const Q = String.raw`"((?:[^"\\]|\\.)*)"`;
const ACCESS_RE = new RegExp(String.raw`^(.*?) ?\[${TIME_LOCAL}\] ${Q} (\d{3}) (\d+|-)(?: ${Q} ${Q})?(.*)$`);
const TRAILING_QUOTED_RE = new RegExp(Q, 'g');
// Nginx Proxy Manager's two access layouts (its proxy-host and its default/dead-host formats):
// `[$time_local] [$upstream_cache_status $upstream_status] $status - $request_method $scheme $host
// "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $gzip_ratio]
// [Sent-to $server] "$http_user_agent" "$http_referer"`; the bracketed parts in [] vary by version.
const NPM_RE = new RegExp(
  String.raw`^\[${TIME_LOCAL}\] (?:(\S+) (\d{3}|-) )?(\d{3}) - (\S+) (\S+) (\S+) ${Q} \[Client ([^\]]+)\] \[Length (\d+|-)\] \[Gzip ([^\]]+)\](?: \[Sent-to ([^\]]+)\])? ${Q} ${Q}$`,
);
const TIME_LOCAL_RE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const ERROR_RE =
  /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[([a-z]+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)$/;
// The context nginx appends to error messages: `, client: 1.2.3.4, server: _, request: "GET / HTTP/1.1"`.
const ERROR_CONTEXT_RE =
  /, (client|server|request|upstream|host|referrer|login|subrequest|port|zone): ("(?:[^"\\]|\\.)*"|[^,]*)/g;
const REQUEST_RE = /^([A-Za-z][A-Za-z_-]*) (.+?)(?: (HTTP\/\d(?:\.\d)?))?$/;

const NUMERIC_VARIABLES = new Set([
  'status',
  'body_bytes_sent',
  'bytes_sent',
  'request_length',
  'request_time',
  'connection',
  'connection_requests',
  'upstream_connect_time',
  'upstream_header_time',
  'upstream_response_time',
  'upstream_status',
  'server_port',
  'remote_port',
]);

/** `29/Sep/2021:14:11:34 +0200` → epoch ms. */
export function timeLocalToMs(text: string): number | undefined {
  const m = TIME_LOCAL_RE.exec(text);
  if (m === null) return undefined;
  const month = monthIndex(m[2]);
  if (month < 0) return undefined;
  const offsetMin = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return Date.UTC(+m[3], month, +m[1], +m[4], +m[5], +m[6]) - offsetMin * 60_000;
}

function splitRequest(raw: Fields, request: string): void {
  const m = REQUEST_RE.exec(request);
  if (m === null) return;
  raw.request_method = m[1];
  raw.request_uri = m[2];
  if (m[3] !== undefined) raw.server_protocol = m[3];
}

/** Space-separated tokens, a double-quoted run kept whole (quotes removed). */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === 32) {
      i++;
      continue;
    }
    if (text.charCodeAt(i) === 34) {
      const end = text.indexOf('"', i + 1);
      const stop = end === -1 ? text.length : end;
      out.push(text.slice(i + 1, stop));
      i = stop + 1;
      continue;
    }
    let end = text.indexOf(' ', i);
    if (end === -1) end = text.length;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/**
 * The part before `[time]`: `[vhost] [xff chain] remote_addr - remote_user`. Address groups
 * are tokens joined while a token ends with a comma (`10.0.0.2, 10.0.0.1`) or is a quoted list.
 */
function isAddress(text: string): boolean {
  return isIP(text) !== 0 || text === 'unknown' || text.startsWith('unix:');
}

/** What `$remote_addr` can be: an address, a `unix:` socket, or `localhost` (seen in Filebeat's tests). */
function isRemoteAddr(token: string): boolean {
  return isIP(token) !== 0 || token.startsWith('unix:') || token === 'localhost';
}

/**
 * Where the client's `$remote_user` starts: after the ` - ` (nginx's literal ident column) that
 * follows `$remote_addr`. nginx writes the Basic-auth name the client sent as it came, spaces
 * included (only `"`, `\` and control bytes are escaped), and an unquoted `$http_x_forwarded_for`
 * logged before the address is the client's text too: `10.0.0.1 - 1.2.3.4 - - [...]` is client
 * 10.0.0.1 with the user `1.2.3.4 - -`. So every unquoted ` - ` after an address token is a place
 * the address may end; exactly one such place gives the address, several give none (AMBIGUOUS_PREFIX,
 * as sshd's two-sided messages do), none means this is not an access line. nginx escapes `"` in
 * every variable, so a quote in the prefix is always the format's own (a quoted XFF list).
 */
const AMBIGUOUS_PREFIX = -2;

function addressEnd(prefix: string): number {
  let found = -1;
  let quoted = false;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    if (quoted || c !== 32 || prefix.charCodeAt(i + 1) !== 45 /* - */) continue;
    // ` - user` or, at the very end, ` -` (one dash, seen in the wild: no user column).
    if (i + 2 < prefix.length && prefix.charCodeAt(i + 2) !== 32) continue;
    const tokenStart = prefix.lastIndexOf(' ', i - 1) + 1;
    if (!isRemoteAddr(prefix.slice(tokenStart, i))) continue;
    if (found !== -1) return AMBIGUOUS_PREFIX;
    found = i;
  }
  return found;
}

function parsePrefix(raw: Fields, prefix: string): boolean {
  const end = addressEnd(prefix);
  if (end === -1) return false;
  if (end === AMBIGUOUS_PREFIX) {
    // The client's text could have made either reading: the line's other fields stand, no source.
    raw.src_ambiguous = true;
    return true;
  }
  const user = prefix.slice(end + 3);
  if (user !== '' && user !== '-') raw.remote_user = user;
  const t = tokens(prefix.slice(0, end));
  const groups: string[][] = [];
  let current: string[] = [];
  for (const token of t) {
    const parts = token.split(',');
    for (const p of parts) {
      const s = p.trim();
      if (s !== '') current.push(s);
    }
    if (!token.endsWith(',')) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  if (groups.length === 0) return false;
  // A quoted first group, or one of several addresses, is not a virtual host but an
  // X-Forwarded-For chain logged before the client (`"10.5.102.222, 199.96.1.1" 10.2.1.185 - -`,
  // a common log_format); a single bare token is the host (`example.com:80`, or an IP as in
  // Filebeat's NGINX_HOST).
  const vhost =
    groups.length > 1 &&
    prefix.charCodeAt(0) !== 34 /* " */ &&
    !(groups[0].length > 1 && groups[0].every(isAddress));
  if (vhost) raw.vhost = groups[0].join(',');
  const addresses = vhost ? groups.slice(1).flat() : groups.flat();
  if (addresses.length === 0) return false;
  raw.remote_addr = addresses[addresses.length - 1];
  if (addresses.length > 1) raw.x_forwarded_for = addresses.slice(0, -1);
  return true;
}

function parseAccess(line: string): { raw: Fields; timeMs: number } | undefined {
  const m = ACCESS_RE.exec(line);
  if (m === null) return undefined;
  const timeMs = timeLocalToMs(m[2]);
  if (timeMs === undefined) return undefined;
  const raw: Fields = {};
  if (!parsePrefix(raw, m[1])) return undefined;
  raw.time_local = m[2];
  const request = m[3];
  if (request !== '-') {
    raw.request = request;
    splitRequest(raw, request);
  }
  raw.status = Number(m[4]);
  if (m[5] !== '-') raw.body_bytes_sent = Number(m[5]);
  if (m[6] !== undefined && m[6] !== '-') raw.http_referer = m[6];
  if (m[7] !== undefined && m[7] !== '-') raw.http_user_agent = m[7];
  const rest = m[8];
  if (rest.length > 0) {
    // The stock `main` format ends with "$http_x_forwarded_for"; more quoted values are kept in order.
    TRAILING_QUOTED_RE.lastIndex = 0;
    const extra: string[] = [];
    for (let q = TRAILING_QUOTED_RE.exec(rest); q !== null; q = TRAILING_QUOTED_RE.exec(rest))
      extra.push(q[1]);
    if (extra.length > 0 && extra[0] !== '-') raw.http_x_forwarded_for = extra[0];
    if (extra.length > 1) raw.extra = extra.slice(1);
    else if (extra.length === 0 && rest.trim() !== '') raw.extra = [rest.trim()];
  }
  return { raw, timeMs };
}

const NPM_FIELDS = [
  'time_local',
  'upstream_cache_status',
  'upstream_status',
  'status',
  'request_method',
  'scheme',
  'host',
  'request_uri',
  'remote_addr',
  'body_bytes_sent',
  'gzip_ratio',
  'server',
  'http_user_agent',
  'http_referer',
] as const;

function parseProxyManager(line: string): { raw: Fields; timeMs: number } | undefined {
  const m = NPM_RE.exec(line);
  if (m === null) return undefined;
  const timeMs = timeLocalToMs(m[1]);
  if (timeMs === undefined) return undefined;
  const raw: Fields = {};
  for (let i = 0; i < NPM_FIELDS.length; i++) {
    const v = m[i + 1];
    if (v === undefined || v === '-') continue;
    const name = NPM_FIELDS[i];
    raw[name] = NUMERIC_VARIABLES.has(name) || name === 'gzip_ratio' ? Number(v) : v;
  }
  return { raw, timeMs };
}

const CLIENT_CONTEXT = ', client: ';
const AMBIGUOUS = -2;
// What nginx writes after `client: `: the address (or `unix:`), then always `, server: `.
const CLIENT_CONTEXT_RE = /, client: (\S+?), server: /y;

/**
 * Where nginx's context (`, client: <addr>, server: <name>, request: "…"`) starts: the only
 * `, client: <address>, server: ` in the message. The message before it (a basic-auth user name)
 * and the values after it (request line, host, referrer) are client-chosen and may imitate it.
 */
function contextStart(message: string): number {
  let found = -1;
  for (let i = message.indexOf(CLIENT_CONTEXT); i !== -1; i = message.indexOf(CLIENT_CONTEXT, i + 1)) {
    CLIENT_CONTEXT_RE.lastIndex = i;
    const m = CLIENT_CONTEXT_RE.exec(message);
    if (m === null || (isIP(m[1]) === 0 && !m[1].startsWith('unix:'))) continue;
    if (found !== -1) return AMBIGUOUS;
    found = i;
  }
  if (found === -1) return message.indexOf(CLIENT_CONTEXT);
  return found;
}

// ngx_http_auth_basic_module: `user "%V": password mismatch`, `user "%V" was not found in "%s"`,
// `no user/password was provided for basic authentication`. The user is client-chosen (and may
// hold quotes): the patterns are anchored at the message's fixed end.
const BASIC_MISMATCH_RE = /^user "(.*)": password mismatch$/;
const BASIC_NOT_FOUND_RE = /^user "(.*)" was not found in "([^"]*)"$/;
const BASIC_NONE = 'no user/password was provided for basic authentication';

function readBasicAuth(raw: Fields, message: string): void {
  if (message.charCodeAt(0) !== 117 /* u */ && message.charCodeAt(0) !== 110 /* n */) return;
  let m = BASIC_MISMATCH_RE.exec(message);
  if (m !== null) {
    raw.user = m[1];
    raw.event = 'password_mismatch';
    raw.outcome = 'failure';
    return;
  }
  m = BASIC_NOT_FOUND_RE.exec(message);
  if (m !== null) {
    raw.user = m[1];
    raw.event = 'user_not_found';
    raw.outcome = 'failure';
    raw.auth_file = m[2];
    return;
  }
  if (message === BASIC_NONE) {
    raw.event = 'auth_required';
    raw.outcome = 'unknown';
  }
}

function parseError(line: string): { raw: Fields; timeMs: number } | undefined {
  const m = ERROR_RE.exec(line);
  if (m === null) return undefined;
  // Error log times are the server's local time without an offset; read as UTC (docs/parsers.md).
  const timeMs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const raw: Fields = {
    time: `${m[1]}/${m[2]}/${m[3]} ${m[4]}:${m[5]}:${m[6]}`,
    level: m[7],
    pid: Number(m[8]),
    tid: Number(m[9]),
  };
  if (m[10] !== undefined) raw.connection = Number(m[10]);
  let message = m[11];
  const ctx = contextStart(message);
  if (ctx === AMBIGUOUS) {
    // Two `client: <ip>, server:` contexts: one was written by the client (a user name, a request
    // line). No client rather than a forged one.
    raw.client_ambiguous = true;
    message = message.slice(0, message.indexOf(CLIENT_CONTEXT));
  } else if (ctx !== -1) {
    const tail = message.slice(ctx);
    message = message.slice(0, ctx);
    ERROR_CONTEXT_RE.lastIndex = 0;
    for (let c = ERROR_CONTEXT_RE.exec(tail); c !== null; c = ERROR_CONTEXT_RE.exec(tail)) {
      let v = c[2];
      if (v.charCodeAt(0) === 34) v = v.slice(1, -1);
      // The first occurrence is nginx's; a later `, client: ` is inside a client-chosen value.
      if (v !== '' && raw[c[1]] === undefined) raw[c[1]] = v;
    }
    if (typeof raw.request === 'string') splitRequest(raw, raw.request);
  }
  if (raw.client_ambiguous === true) readAmbiguousBasicAuth(raw, m[11]);
  else readBasicAuth(raw, message);
  raw.message = message;
  return { raw, timeMs };
}

const BASIC_AUTH_KEYS = ['event', 'outcome', 'user', 'auth_file'] as const;

/**
 * With two `, client: <ip>, server: ` contexts the message (and a basic-auth user name in it) may end
 * at either: `user "admin": password mismatch, client: 10.9.9.9, server: x, …` may be the user name
 * of another line. Only what every reading gives is kept (the outcome, usually; not the user).
 */
function readAmbiguousBasicAuth(raw: Fields, message: string): void {
  const readings: Fields[] = [];
  for (let i = message.indexOf(CLIENT_CONTEXT); i !== -1; i = message.indexOf(CLIENT_CONTEXT, i + 1)) {
    CLIENT_CONTEXT_RE.lastIndex = i;
    if (CLIENT_CONTEXT_RE.exec(message) === null) continue;
    const reading: Fields = {};
    readBasicAuth(reading, message.slice(0, i));
    readings.push(reading);
  }
  for (const key of BASIC_AUTH_KEYS) {
    const v = readings[0]?.[key];
    if (v !== undefined && readings.every((r) => r[key] === v)) raw[key] = v;
  }
}

class NginxParser implements Parser {
  readonly format = 'nginx';
  private readonly custom: CompiledLogFormat | undefined;
  private readonly referenceTimeMs: number | undefined;

  constructor(options: ParserOptions) {
    const settings = nginxSettings.parse(options.settings ?? {});
    this.custom = settings.log_format === undefined ? undefined : compileLogFormat(settings.log_format);
    this.referenceTimeMs = options.referenceTimeMs;
  }

  parse(record: InputRecord): ParseResult {
    let line = record.text;
    if (isBlank(line)) return SKIPPED;
    line = line.trimEnd();
    let syslogHost: string | undefined;
    if (line.charCodeAt(0) === 60 /* < */) {
      // nginx can log to syslog (`error_log syslog:server=...`): strip the RFC 3164/5424 header.
      const header = parseSyslogHeader(line, this.referenceTimeMs ?? record.receivedAt);
      if (header !== undefined) {
        syslogHost = header.host;
        line = header.message;
      }
    }
    // A custom layout first; a line it does not match may still be in a stock one (one file can
    // hold both, as crowdsec's catch-npm test log does).
    const access =
      (this.custom === undefined ? undefined : this.parseCustom(line)) ??
      parseAccess(line) ??
      parseProxyManager(line);
    if (access !== undefined) {
      if (syslogHost !== undefined) access.raw.syslog_host = syslogHost;
      return accept('nginx', 'access', access.raw, access.timeMs);
    }
    const error = parseError(line);
    if (error !== undefined) {
      if (syslogHost !== undefined) error.raw.syslog_host = syslogHost;
      return accept('nginx', 'error', error.raw, error.timeMs);
    }
    return reject(looksBinary(line) ? 'binary_data' : 'unrecognized_line');
  }

  private parseCustom(line: string): { raw: Fields; timeMs: number | undefined } | undefined {
    const custom = this.custom!;
    const m = custom.regex.exec(line);
    if (m === null) return undefined;
    const raw: Fields = {};
    const names = custom.variables;
    for (let i = 0; i < names.length; i++) {
      const v = m[i + 1];
      if (v === undefined || v === '-') continue;
      const name = names[i];
      if (NUMERIC_VARIABLES.has(name)) {
        const n = Number(v);
        raw[name] = Number.isNaN(n) ? v : n;
      } else raw[name] = v;
    }
    if (typeof raw.request === 'string') splitRequest(raw, raw.request);
    let timeMs: number | undefined;
    if (typeof raw.time_local === 'string') timeMs = timeLocalToMs(raw.time_local);
    else if (typeof raw.time_iso8601 === 'string') timeMs = Date.parse(raw.time_iso8601);
    else if (typeof raw.msec === 'string') timeMs = Math.round(Number(raw.msec) * 1000);
    if (timeMs !== undefined && Number.isNaN(timeMs)) timeMs = undefined;
    return { raw, timeMs };
  }
}

/** Custom layouts compiled once for detection (a config holds one or a few). */
const LAYOUTS = new Map<string, CompiledLogFormat>();

function compiledLayout(format: string): CompiledLogFormat {
  let compiled = LAYOUTS.get(format);
  if (compiled === undefined) {
    compiled = compileLogFormat(format);
    LAYOUTS.set(format, compiled);
  }
  return compiled;
}

export const nginx: ParserDefinition = {
  format: 'nginx',
  source: 'nginx',
  summary: 'nginx access (combined/common, vhost + X-Forwarded-For, or a custom log_format) and error logs',
  settings: nginxSettings,
  detect(sampleLines, settings) {
    const custom = typeof settings?.log_format === 'string' ? compiledLayout(settings.log_format) : undefined;
    let tried = 0;
    let hits = 0;
    const now = Date.now();
    for (const line of sampleLines) {
      if (isBlank(line)) continue;
      if (++tried > 20) break;
      let text = line;
      if (text.charCodeAt(0) === 60 /* < */) text = parseSyslogHeader(text, now)?.message ?? text;
      if (custom?.regex.test(text) || ACCESS_RE.test(text) || ERROR_RE.test(text) || NPM_RE.test(text))
        hits++;
    }
    return tried === 0 ? 0 : (0.9 * hits) / Math.min(tried, 20);
  },
  create(options = {}) {
    return new NginxParser(options);
  },
};
