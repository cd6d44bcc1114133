import { eveTime, zeekOpenTime, zeekTime } from './time-format.ts';
import type { GeneratedItem, WriteContext } from './types.ts';

/**
 * Zeek logs as Zeek writes them: ASCII TSV with the `#separator … #types` header, or JSON lines in
 * the layout of the json-streaming-logs package (`_path`, `_write_ts`, ISO 8601 `ts`), which is
 * what /work/shared/data/zeek-json/wrccdc2018-zeek6.2 holds row for row with its TSV twin.
 * Field lists and types are Zeek 6's (compare the `#fields`/`#types` lines in
 * /work/shared/data/zeek-tsv/wrccdc2018-zeek6.2).
 */
export type ZeekType =
  | 'time'
  | 'string'
  | 'addr'
  | 'port'
  | 'enum'
  | 'count'
  | 'interval'
  | 'bool'
  | 'double'
  | 'set[string]'
  | 'set[enum]'
  | 'vector[string]'
  | 'vector[interval]';

const ID: [string, ZeekType][] = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
];

export const ZEEK_LOGS = {
  conn: [
    ...ID,
    ['proto', 'enum'],
    ['service', 'string'],
    ['duration', 'interval'],
    ['orig_bytes', 'count'],
    ['resp_bytes', 'count'],
    ['conn_state', 'string'],
    ['local_orig', 'bool'],
    ['local_resp', 'bool'],
    ['missed_bytes', 'count'],
    ['history', 'string'],
    ['orig_pkts', 'count'],
    ['orig_ip_bytes', 'count'],
    ['resp_pkts', 'count'],
    ['resp_ip_bytes', 'count'],
    ['tunnel_parents', 'set[string]'],
  ],
  dns: [
    ...ID,
    ['proto', 'enum'],
    ['trans_id', 'count'],
    ['rtt', 'interval'],
    ['query', 'string'],
    ['qclass', 'count'],
    ['qclass_name', 'string'],
    ['qtype', 'count'],
    ['qtype_name', 'string'],
    ['rcode', 'count'],
    ['rcode_name', 'string'],
    ['AA', 'bool'],
    ['TC', 'bool'],
    ['RD', 'bool'],
    ['RA', 'bool'],
    ['Z', 'count'],
    ['answers', 'vector[string]'],
    ['TTLs', 'vector[interval]'],
    ['rejected', 'bool'],
  ],
  http: [
    ...ID,
    ['trans_depth', 'count'],
    ['method', 'string'],
    ['host', 'string'],
    ['uri', 'string'],
    ['referrer', 'string'],
    ['version', 'string'],
    ['user_agent', 'string'],
    ['request_body_len', 'count'],
    ['response_body_len', 'count'],
    ['status_code', 'count'],
    ['status_msg', 'string'],
    ['tags', 'set[enum]'],
    ['resp_mime_types', 'vector[string]'],
  ],
  ssl: [
    ...ID,
    ['version', 'string'],
    ['cipher', 'string'],
    ['curve', 'string'],
    ['server_name', 'string'],
    ['resumed', 'bool'],
    ['last_alert', 'string'],
    ['next_protocol', 'string'],
    ['established', 'bool'],
    ['ssl_history', 'string'],
    ['cert_chain_fps', 'vector[string]'],
    ['client_cert_chain_fps', 'vector[string]'],
    ['sni_matches_cert', 'bool'],
    ['validation_status', 'string'],
  ],
  ssh: [
    ...ID,
    ['version', 'count'],
    ['auth_success', 'bool'],
    ['auth_attempts', 'count'],
    ['direction', 'enum'],
    ['client', 'string'],
    ['server', 'string'],
    ['cipher_alg', 'string'],
    ['mac_alg', 'string'],
    ['compression_alg', 'string'],
    ['kex_alg', 'string'],
    ['host_key_alg', 'string'],
    ['host_key', 'string'],
  ],
  notice: [
    ...ID,
    ['fuid', 'string'],
    ['proto', 'enum'],
    ['note', 'enum'],
    ['msg', 'string'],
    ['sub', 'string'],
    ['src', 'addr'],
    ['dst', 'addr'],
    ['p', 'port'],
    ['n', 'count'],
    ['actions', 'set[enum]'],
    ['suppress_for', 'interval'],
  ],
} as const satisfies Record<string, [string, ZeekType][]>;

export type ZeekPath = keyof typeof ZEEK_LOGS;
/** A field value; `undefined` is Zeek's unset (`-` in TSV, absent in JSON). */
export type ZeekValue = string | number | boolean | readonly (string | number)[] | undefined;

/** The TSV header Zeek writes at the top of every log file. */
export function zeekTsvHeader(path: ZeekPath, openMs: number): string {
  const fields = ZEEK_LOGS[path];
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    `#path\t${path}`,
    `#open\t${zeekOpenTime(openMs)}`,
    `#fields\t${fields.map((f) => f[0]).join('\t')}`,
    `#types\t${fields.map((f) => f[1]).join('\t')}`,
  ].join('\n');
}

/** The footer Zeek writes when it rotates or closes a log. */
export function zeekTsvFooter(closeMs: number): string {
  return `#close\t${zeekOpenTime(closeMs)}`;
}

// Zeek's ASCII writer escapes the separator, the set separator and non-printable bytes as \xNN.
const NEEDS_ESCAPE = /[\t,\\\x00-\x1f\x7f]/;
function escapeTsv(s: string, inSet: boolean): string {
  if (!NEEDS_ESCAPE.test(s)) return s === '' ? '(empty)' : s === '-' ? '\\x2d' : s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c === 0x7f || ch === '\t' || ch === '\\' || (inSet && ch === ','))
      out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

function tsvValue(type: ZeekType, v: ZeekValue, tsMs: number): string {
  if (v === undefined) return '-';
  switch (type) {
    case 'time':
      return zeekTime(tsMs, typeof v === 'number' ? v : 0);
    case 'bool':
      return v ? 'T' : 'F';
    case 'interval':
    case 'double':
      return (v as number).toFixed(6);
    case 'set[string]':
    case 'set[enum]':
    case 'vector[string]':
    case 'vector[interval]': {
      const items = v as readonly (string | number)[];
      if (items.length === 0) return '(empty)';
      return items
        .map((x) => (type === 'vector[interval]' ? (x as number).toFixed(6) : escapeTsv(String(x), true)))
        .join(',');
    }
    case 'count':
    case 'port':
      return String(v);
    default:
      return escapeTsv(String(v), false);
  }
}

function isoMicros(ms: number, micros: number): string {
  // Same instant as zeekTime(): ISO 8601 with microseconds and Z, as json-streaming-logs writes.
  return `${eveTime(ms, micros).slice(0, 26)}Z`;
}

/** Rounded to microseconds, as Zeek's doubles are printed (shortest form in JSON). */
const micro = (x: number): number => Math.round(x * 1e6) / 1e6;

/** `,"name":` per field, built once per log path rather than per line. */
const JSON_KEYS = Object.fromEntries(
  Object.entries(ZEEK_LOGS).map(([path, fields]) => [path, fields.map((f) => `,${JSON.stringify(f[0])}:`)]),
) as Record<ZeekPath, string[]>;

function jsonValue(type: ZeekType, v: ZeekValue, quotedIso: string): string {
  switch (type) {
    case 'time':
      return quotedIso;
    case 'interval':
    case 'double':
      return String(micro(v as number));
    case 'count':
    case 'port':
    case 'bool':
      return String(v);
    case 'vector[interval]':
      return `[${(v as number[]).map((x) => String(micro(x))).join(',')}]`;
    case 'string':
    case 'addr':
    case 'enum':
      return quote(v as string);
    default:
      return `[${(v as readonly string[]).map(quote).join(',')}]`;
  }
}

// Most values need no JSON escaping; checking is cheaper than JSON.stringify on every field.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const quote = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/**
 * Renders one Zeek record. `values` line up with ZEEK_LOGS[path]; the `ts` slot holds the
 * microseconds below the millisecond (0..999) so TSV and JSON show the same instant.
 */
export function zeekLine(
  ctx: WriteContext,
  path: ZeekPath,
  timeMs: number,
  values: readonly ZeekValue[],
  key: string | null,
): GeneratedItem {
  const fields = ZEEK_LOGS[path];
  let line: string;
  if (ctx.zeek === 'tsv') {
    const cells: string[] = new Array(fields.length);
    for (let i = 0; i < fields.length; i++) cells[i] = tsvValue(fields[i][1], values[i], timeMs);
    line = cells.join('\t');
    return { format: 'zeek-tsv', line, logTypeHint: path, timeMs, key };
  }
  const micros = typeof values[0] === 'number' ? values[0] : 0;
  // Every record's only `time` field is `ts`, the line's own instant; _write_ts shows the same.
  const quotedIso = `"${isoMicros(timeMs, micros)}"`;
  const keys = JSON_KEYS[path];
  line = `{"_path":"${path}","_write_ts":${quotedIso}`;
  for (let i = 0; i < fields.length; i++) {
    const v = values[i];
    if (v === undefined) continue;
    line += keys[i] + jsonValue(fields[i][1], v, quotedIso);
  }
  line += '}';
  return { format: 'zeek-json', line, logTypeHint: path, timeMs, key };
}
