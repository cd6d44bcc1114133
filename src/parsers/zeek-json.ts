import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isoToEpochMicros, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { decodeZeekJsonEscapes, roundMicros } from './zeek-escapes.ts';

/**
 * Zeek's JSON writer: flat dotted keys (`id.orig_h`), `ts` as epoch seconds or ISO 8601
 * (`LogAscii::json_timestamps`), plus the nested shape `{"dns": {...}}` used on Kafka topics
 * where the outer key is the log type. `_path` names the log type; `_write_ts` and `_system_name`
 * are kept in raw. Files as Zeek writes them have no `_path`: then the configured log type, else
 * the file name (`conn.log`, rotated `conn.16:00:00-17:00:00.log`), else the record's fields.
 *
 * To give the same raw record as the TSV writer for the same row (tested on WRCCDC 2018):
 * - ISO 8601 time strings become epoch seconds (numbers), as `time` columns are in TSV;
 * - non-integer numbers are rounded to microseconds: the TSV writer prints time, interval and
 *   double with six decimals while the JSON writer prints the full double (rtt 0.0008699893951416016
 *   vs 0.000870). Zeek's clock resolution is the microsecond, so nothing real is lost;
 * - `\xNN` escapes of bytes are decoded to the same text as in TSV (zeek-escapes.ts explains);
 * - `null` (an unset field with `json.include_unset_fields`) is dropped, as TSV unset is absent.
 */

function isZeekIsoTime(s: string): boolean {
  // The JSON writer's ISO form is exactly YYYY-MM-DDTHH:MM:SS(.ffffff)Z; check shape before regex.
  return (
    (s.length === 27 || s.length === 20) &&
    s.charCodeAt(10) === 84 /* T */ &&
    s.charCodeAt(s.length - 1) === 90
  );
}

function convertValue(v: unknown): unknown {
  if (typeof v === 'number') return roundMicros(v);
  if (typeof v === 'string') {
    if (isZeekIsoTime(v)) {
      const us = isoToEpochMicros(v);
      if (us !== undefined) return us / 1e6;
    }
    return decodeZeekJsonEscapes(v);
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = convertValue(v[i]);
  }
  return v;
}

/** The nested Kafka shape: one key, an object value, and none of the flat record's keys. */
function unwrapNested(o: Fields): { logType: string; inner: Fields } | undefined {
  let key: string | undefined;
  for (const k in o) {
    if (key !== undefined) return undefined;
    key = k;
  }
  if (key === undefined || key === 'ts') return undefined;
  const inner = o[key];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return undefined;
  return { logType: key, inner: inner as Fields };
}

/**
 * Zeek's standard log streams (base and policy scripts). A file written by Zeek is named after its
 * stream (`conn.log`, `dns.log`) and rotated as `conn.16:00:00-17:00:00.log[.gz]` or
 * `conn.2026-03-14-16-00-00.log`: the name up to its first dot is the log type when it is one of
 * these (a custom stream's file name proves nothing).
 */
const ZEEK_LOGS: ReadonlySet<string> = new Set([
  'analyzer',
  'broker',
  'capture_loss',
  'cluster',
  'config',
  'conn',
  'conn_long',
  'dce_rpc',
  'dhcp',
  'dnp3',
  'dns',
  'dpd',
  'files',
  'ftp',
  'http',
  'intel',
  'irc',
  'kerberos',
  'known_certs',
  'known_hosts',
  'known_modbus',
  'known_services',
  'ldap',
  'ldap_search',
  'loaded_scripts',
  'modbus',
  'mqtt_connect',
  'mqtt_publish',
  'mqtt_subscribe',
  'mysql',
  'netcontrol',
  'notice',
  'notice_alarm',
  'ntlm',
  'ntp',
  'ocsp',
  'packet_filter',
  'pe',
  'postgresql',
  'print',
  'quic',
  'radius',
  'rdp',
  'redis',
  'reporter',
  'rfb',
  'signatures',
  'sip',
  'smb_files',
  'smb_mapping',
  'smtp',
  'snmp',
  'socks',
  'software',
  'ssh',
  'ssl',
  'stats',
  'syslog',
  'telemetry',
  'traceroute',
  'tunnel',
  'websocket',
  'weird',
  'x509',
]);

/**
 * Without `_path` and without a file name (stdin, Kafka), the log type from the record's own
 * fields: the first entry whose fields are all present (checked most specific first). Field names
 * are Zeek's (base/protocols/<p>/main.zeek `Info` records).
 */
const TYPE_BY_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['x509', ['certificate.subject']],
  ['conn', ['conn_state']],
  ['dns', ['query', 'qtype']],
  ['dns', ['trans_id', 'rcode']],
  ['http', ['method', 'uri']],
  ['files', ['fuid', 'mime_type']],
  ['ssl', ['resumed', 'established']],
  ['ssh', ['auth_attempts']],
  ['ssh', ['auth_success']],
  ['notice', ['note']],
  ['weird', ['name', 'notice', 'peer']],
  ['dhcp', ['msg_types']],
  ['dhcp', ['assigned_addr']],
  ['kerberos', ['request_type']],
  ['ntlm', ['server_nb_computer_name']],
  ['ntlm', ['server_dns_computer_name']],
  ['ntlm', ['domainname', 'hostname']],
  ['rdp', ['security_protocol']],
  ['rdp', ['cookie']],
  ['smb_mapping', ['share_type']],
  ['dce_rpc', ['endpoint', 'operation']],
  ['smtp', ['helo']],
  ['smtp', ['mailfrom']],
  ['ftp', ['command', 'reply_code']],
  ['snmp', ['community', 'get_requests']],
  ['modbus', ['func', 'pdu_type']],
  ['software', ['software_type']],
  ['ntp', ['stratum', 'mode']],
  ['ocsp', ['hashAlgorithm']],
  ['pe', ['machine', 'is_exe']],
  ['rfb', ['client_major_version']],
  ['sip', ['call_id']],
  ['ldap_search', ['scope', 'filter']],
  ['dpd', ['analyzer', 'failure_reason']],
  ['syslog', ['facility', 'severity', 'message']],
  ['tunnel', ['tunnel_type']],
  ['capture_loss', ['percent_lost']],
  ['smb_files', ['action', 'name', 'size']],
];

/** Zeek's one standard stream whose records have no `ts` (the scripts loaded at start-up). */
const LOGS_WITHOUT_TS: ReadonlySet<string> = new Set(['loaded_scripts']);

/**
 * Whether a record without `_path` is shaped as Zeek's JSON writer writes one, so that a name or
 * its fields may type it: flat (records are flattened to dotted keys, containers are arrays; never
 * a nested object) with a numeric `ts` (every standard stream's first column but loaded_scripts').
 * An EVE line (nested objects, `timestamp`) or an app's JSON is not, whatever file it sits in.
 */
function zeekShaped(raw: Fields, logType: string | undefined): boolean {
  for (const k in raw) {
    const v = raw[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return false;
  }
  return typeof raw.ts === 'number' || (logType !== undefined && LOGS_WITHOUT_TS.has(logType));
}

function logTypeFromFields(raw: Fields): string | undefined {
  for (const [type, fields] of TYPE_BY_FIELDS) {
    let all = true;
    for (const f of fields) {
      if (!(f in raw)) {
        all = false;
        break;
      }
    }
    if (all) return type;
  }
  return undefined;
}

/** `/var/log/zeek/conn.16:00:00-17:00:00.log.gz` → conn, when that is a Zeek stream. */
export function logTypeFromFileName(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dot = base.indexOf('.');
  const name = dot === -1 ? base : base.slice(0, dot);
  return ZEEK_LOGS.has(name) ? name : undefined;
}

class ZeekJsonParser implements Parser {
  readonly format = 'zeek-json';
  private readonly configuredLogType: string | undefined;
  /** The input's name as a hint (ParserOptions.nameLogType), when it names a Zeek stream. */
  private readonly nameLogType: string | undefined;
  // One stream is one file: its name is looked at once.
  private lastFile: string | undefined;
  private lastFileType: string | undefined;

  constructor(options: ParserOptions) {
    this.configuredLogType = options.logType;
    const name = options.nameLogType;
    this.nameLogType = name !== undefined && ZEEK_LOGS.has(name) ? name : undefined;
  }

  /** The Zeek stream the record's input is named after: the hint, else its file's name. */
  private namedLogType(record: InputRecord): string | undefined {
    if (this.nameLogType !== undefined) return this.nameLogType;
    const pos = record.position;
    if (pos.kind !== 'file') return undefined;
    if (pos.path !== this.lastFile) {
      this.lastFile = pos.path;
      this.lastFileType = logTypeFromFileName(pos.path);
    }
    return this.lastFileType;
  }

  /**
   * The log type when the record has no `_path`: configured (the user's word), else — only for a
   * record shaped as Zeek writes them — the input's name, else its fields; else `unknown`, which a
   * stream that mixes formats takes as "not mine" (the line is detected on its own).
   */
  private logTypeWithoutPath(record: InputRecord, raw: Fields): string {
    if (this.configuredLogType !== undefined) return this.configuredLogType;
    const named = this.namedLogType(record);
    if (!zeekShaped(raw, named)) return 'unknown';
    return named ?? logTypeFromFields(raw) ?? 'unknown';
  }

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    let raw = line.value;
    let logType: string | undefined;
    const nested = unwrapNested(raw);
    if (nested !== undefined) {
      raw = nested.inner;
      logType = nested.logType;
    }
    for (const k in raw) {
      const v = raw[k];
      if (v === null) {
        delete raw[k];
        continue;
      }
      if (typeof v === 'boolean') continue;
      const c = convertValue(v); // arrays are converted in place
      if (c === v) continue;
      // JSON.parse makes `__proto__` an own property; assigning it would set the prototype.
      if (k === '__proto__')
        Object.defineProperty(raw, k, { value: c, enumerable: true, writable: true, configurable: true });
      else raw[k] = c;
    }
    const ts = raw.ts;
    if (ts !== undefined && typeof ts !== 'number')
      return reject('bad_timestamp', `ts=${String(ts).slice(0, 40)}`);
    const path = raw._path;
    if (typeof path === 'string') logType = path;
    return accept(
      'zeek',
      logType ?? this.logTypeWithoutPath(record, raw),
      raw,
      ts === undefined ? undefined : Math.round(ts * 1000),
    );
  }
}

function looksZeek(o: Fields): boolean {
  if (typeof o._path === 'string') return true;
  if ('id.orig_h' in o || ('uid' in o && 'ts' in o)) return true;
  const nested = unwrapNested(o);
  return nested !== undefined && ('ts' in nested.inner || 'uid' in nested.inner);
}

export const zeekJson: ParserDefinition = {
  format: 'zeek-json',
  stateless: true,
  source: 'zeek',
  summary: 'Zeek JSON logs (flat dotted keys or the nested {"<log type>": {...}} Kafka shape)',
  detect(sampleLines) {
    return 0.95 * jsonScore(sampleLines, looksZeek);
  },
  claims: looksZeek,
  create(options = {}) {
    return new ZeekJsonParser(options);
  },
};
