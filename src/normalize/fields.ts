/**
 * The canonical field dictionary: every field of the `normalized` and `enriched` layers, its type
 * and its meaning. Mappings are checked against NORMALIZED_FIELDS at load (an unknown field is a
 * MappingInvalidError), the mapping engine coerces values by the field's type, and docs/schema.md is
 * generated from this table (test/normalize/fields.test.ts fails when the doc is stale and rewrites
 * it with UPDATE_SCHEMA_DOC=1).
 */
export type FieldType =
  | 'string'
  | 'number'
  | 'boolean'
  | 'string[]'
  | 'ip'
  | 'time_ms'
  | 'object'
  | 'object[]';

export interface FieldSpec {
  readonly type: FieldType;
  readonly description: string;
  /** Allowed values for enumerated strings. */
  readonly values?: readonly string[];
}

export const EVENT_CLASSES = [
  'network',
  'dns',
  'http',
  'tls',
  'ssh',
  'file',
  'email',
  'alert',
  'auth',
  'web',
  'inventory',
  'diagnostic',
  'application',
] as const;
export type EventClass = (typeof EVENT_CLASSES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** severity_score is derived from severity when a mapping does not set it: 0..100. */
export const SEVERITY_SCORES: Readonly<Record<Severity, number>> = {
  info: 0,
  low: 25,
  medium: 50,
  high: 75,
  critical: 100,
};

export const OUTCOMES = ['success', 'failure', 'unknown'] as const;

const f = (type: FieldType, description: string, values?: readonly string[]): FieldSpec =>
  values ? { type, description, values } : { type, description };

export const NORMALIZED_FIELDS = {
  // when and what
  event_time: f(
    'time_ms',
    "When the event happened, epoch milliseconds (UTC): the log's time field, else the parser's time, else ingest_time",
  ),
  ingest_time: f('time_ms', 'When socstream received the record, epoch milliseconds (UTC)'),
  event_class: f('string', 'Broad class; decides the default topic (see routing)', EVENT_CLASSES),
  event_type: f('string', 'Specific type within the class: conn, dns, alert, login_failed, ...'),
  // flow identity
  flow_id: f('string', 'Sensor flow identifier (Zeek uid, Suricata flow_id as a string)'),
  community_id: f('string', 'Community ID v1 flow hash ("1:<base64>"); computed when the log lacks it'),
  file_id: f('string', 'Sensor file identifier (Zeek fuid/id)'),
  // endpoints
  src_ip: f('ip', 'Source (originator) IP address, IPv4 or IPv6'),
  src_port: f('number', 'Source port (ICMP: type)'),
  dst_ip: f('ip', 'Destination (responder) IP address'),
  dst_port: f('number', 'Destination port (ICMP: code)'),
  src_host: f(
    'string',
    'Source host name as the log wrote it where it gave no address (PAM rhost, sshd with UseDNS); never resolved',
  ),
  src_mac: f('string', 'Source MAC address'),
  dst_mac: f('string', 'Destination MAC address'),
  protocol: f('string', 'Transport protocol, lowercase: tcp, udp, icmp, ipv6-icmp, sctp'),
  app_protocol: f('string', 'Application protocol, lowercase: dns, http, tls, ssh, smb, ...'),
  interface: f('string', 'Capture interface'),
  vlan: f('number', 'Outer VLAN id'),
  // volume
  bytes_in: f('number', 'Bytes from destination to source (responder → originator)'),
  bytes_out: f('number', 'Bytes from source to destination (originator → responder)'),
  packets_in: f('number', 'Packets from destination to source'),
  packets_out: f('number', 'Packets from source to destination'),
  duration_ms: f('number', 'Duration in milliseconds'),
  conn_state: f('string', 'Connection state (Zeek conn_state, Suricata flow.state)'),
  history: f('string', 'Connection history string (Zeek history)'),
  // who and how
  user: f('string', 'Account name the event is about'),
  user_id: f('string', 'Numeric or opaque account id'),
  user_role: f('string', 'Role of the account'),
  outcome: f('string', 'Result of the action', OUTCOMES),
  action: f('string', 'What was done or decided: allowed, blocked, login, GET, SMB::FILE_OPEN, ...'),
  method: f('string', 'Authentication or request method: password, publickey, ...'),
  auth_attempts: f(
    'number',
    'Login attempts this event records: 1 for a guess, 0 for a line repeating an attempt another line counted (docs/detection.md)',
  ),
  host: f('string', 'Host the event was logged on or is about (name or IP)'),
  service: f('string', 'Service or program name'),
  process_id: f('number', 'Process id of the logging program'),
  // detections
  severity: f('string', 'Severity, normalized', SEVERITIES),
  severity_score: f(
    'number',
    'Severity as a number 0..100 (info 0, low 25, medium 50, high 75, critical 100)',
  ),
  signature: f('string', 'Detection signature / notice name'),
  signature_id: f('number', 'Signature id (Suricata sid)'),
  signature_rev: f('number', 'Signature revision'),
  category: f('string', 'Detection or event category'),
  threat: f('string', 'Threat name reported by an endpoint tool'),
  // dns
  dns_query: f('string', 'Queried name, lowercase without the trailing dot'),
  dns_qtype: f('string', 'Query type name (A, AAAA, TXT, ...)'),
  dns_rcode: f('string', 'Response code name (NOERROR, NXDOMAIN, ...)'),
  dns_answers: f('string[]', 'Answer data'),
  dns_trans_id: f('number', 'DNS transaction id'),
  // http / web
  http_method: f('string', 'HTTP request method'),
  http_status: f('number', 'HTTP response status code'),
  http_host: f('string', 'HTTP Host header'),
  http_version: f('string', 'HTTP protocol version'),
  url: f('string', 'Request URI or URL'),
  user_agent: f('string', 'HTTP User-Agent'),
  http_referrer: f('string', 'HTTP Referer'),
  http_content_type: f('string', 'Response content type'),
  forwarded_for: f('string', 'X-Forwarded-For chain as logged'),
  request_bytes: f('number', 'Request body bytes'),
  response_bytes: f('number', 'Response body bytes'),
  // tls / ssh / certificates
  tls_version: f('string', 'TLS/SSL version'),
  tls_cipher: f('string', 'Negotiated cipher suite'),
  tls_sni: f('string', 'Server Name Indication'),
  tls_ja3: f('string', 'JA3 client fingerprint hash'),
  tls_ja3s: f('string', 'JA3S server fingerprint hash'),
  tls_subject: f('string', 'Server certificate subject'),
  tls_issuer: f('string', 'Server certificate issuer'),
  tls_serial: f('string', 'Certificate serial'),
  tls_not_before: f('time_ms', 'Certificate validity start, epoch ms'),
  tls_not_after: f('time_ms', 'Certificate validity end, epoch ms'),
  tls_fingerprint: f('string', 'Certificate fingerprint'),
  tls_established: f('boolean', 'Handshake completed'),
  ssh_client: f('string', 'SSH client version string'),
  ssh_server: f('string', 'SSH server version string'),
  ssh_hassh: f('string', 'HASSH client fingerprint'),
  // files
  file_name: f('string', 'File name or path'),
  file_size: f('number', 'File size in bytes'),
  file_mime_type: f('string', 'MIME type'),
  file_md5: f('string', 'MD5 of the file, lowercase hex'),
  file_sha1: f('string', 'SHA-1 of the file, lowercase hex'),
  file_sha256: f('string', 'SHA-256 of the file, lowercase hex'),
  // email
  email_from: f('string', 'Envelope or header sender'),
  email_to: f('string[]', 'Recipients'),
  email_subject: f('string', 'Subject'),
  // free text and misc
  message: f('string', 'Human-readable message'),
  log_level: f('string', 'Log level of the emitting program, lowercase'),
  reason: f('string', 'Why: failure reason, notice sub-message, drop reason'),
  version: f('string', 'Protocol or software version'),
  software: f('string', 'Software name'),
  device_type: f('string', 'Client device type'),
  is_bot: f('boolean', 'The client was classified as a bot'),
  attempts: f('number', 'Attempts counted by the source (failed logins in a window, auth attempts)'),
  retry_after_ms: f('number', 'Back-off imposed by the source, milliseconds'),
} as const satisfies Record<string, FieldSpec>;

export type NormalizedField = keyof typeof NORMALIZED_FIELDS;

export const ENRICHED_FIELDS = {
  src_ip_is_private: f('boolean', 'src_ip is in a private range (RFC 1918, RFC 4193 unique-local, CGNAT)'),
  dst_ip_is_private: f('boolean', 'dst_ip is in a private range'),
  src_ip_class: f('string', 'Range of src_ip', [
    'public',
    'private',
    'loopback',
    'link_local',
    'multicast',
    'reserved',
  ]),
  dst_ip_class: f('string', 'Range of dst_ip (same values as src_ip_class)'),
  src_in_home: f('boolean', 'src_ip is in a configured home network'),
  dst_in_home: f('boolean', 'dst_ip is in a configured home network'),
  direction: f('string', 'From the home networks: inbound, outbound, internal, external', [
    'inbound',
    'outbound',
    'internal',
    'external',
  ]),
  event_year: f('number', 'Year of event_time in the configured time zone'),
  event_month: f('number', 'Month 1..12'),
  event_day: f('number', 'Day of month 1..31'),
  event_hour: f('number', 'Hour 0..23'),
  event_weekday: f('number', 'ISO weekday: 1 Monday .. 7 Sunday'),
  ioc: f(
    'object[]',
    'IOC matches: [{list, indicator, kind, field, severity}], empty when none (only when IOC lists are configured)',
  ),
  src_asset: f('object', 'Asset inventory entry for src_ip: {name, owner, criticality, tags}'),
  dst_asset: f('object', 'Asset inventory entry for dst_ip'),
  src_geo_country: f('string', 'ISO country code of src_ip (GeoIP city database)'),
  src_geo_city: f('string', 'City of src_ip'),
  src_geo_lat: f('number', 'Latitude of src_ip'),
  src_geo_lon: f('number', 'Longitude of src_ip'),
  dst_geo_country: f('string', 'ISO country code of dst_ip'),
  dst_geo_city: f('string', 'City of dst_ip'),
  dst_geo_lat: f('number', 'Latitude of dst_ip'),
  dst_geo_lon: f('number', 'Longitude of dst_ip'),
  src_asn: f('number', 'Autonomous system number of src_ip (GeoIP ASN database)'),
  src_as_org: f('string', 'AS organization of src_ip'),
  dst_asn: f('number', 'Autonomous system number of dst_ip'),
  dst_as_org: f('string', 'AS organization of dst_ip'),
} as const satisfies Record<string, FieldSpec>;

export type EnrichedField = keyof typeof ENRICHED_FIELDS;

export function isNormalizedField(name: string): name is NormalizedField {
  return Object.hasOwn(NORMALIZED_FIELDS, name);
}

/** docs/schema.md, generated from the two tables (test/normalize/fields.test.ts keeps it in sync). */
export function renderSchemaDoc(): string {
  const rows = (table: Record<string, FieldSpec>): string =>
    Object.entries(table)
      .map(([name, spec]) => {
        const values = spec.values ? ` One of: ${spec.values.map((v) => `\`${v}\``).join(', ')}.` : '';
        return `| \`${name}\` | ${spec.type} | ${spec.description}.${values} |`;
      })
      .join('\n');
  return `# Event schema

<!-- Generated from src/normalize/fields.ts by \`UPDATE_SCHEMA_DOC=1 npx node --test test/normalize/fields.test.ts\`; do not edit by hand. -->

Every event is an envelope with three layers (ARCHITECTURE.md): \`raw\` keeps every input field as
parsed, \`normalized\` holds the canonical fields below, \`enriched\` the derived fields below.
A field is absent when the log does not carry it. Which raw field becomes which canonical field is
data: the mapping files in \`src/normalize/mappings/<source>/<log_type>.yaml\` (see
docs/enrichment.md for the mapping format, enrichment and routing).

Types: \`time_ms\` is epoch milliseconds (UTC); \`ip\` is an IPv4 or IPv6 address in text form;
\`string[]\` and \`object[]\` are JSON arrays, \`object\` a JSON object.

## Envelope

| field | type | meaning |
|---|---|---|
| \`id\` | string | Deterministic id from the input position (topic/partition/offset or file identity + byte offset) |
| \`source\` | string | Log family: zeek, suricata, sshd, auth, nginx, app, threat, json |
| \`log_type\` | string | Log type within the family: conn, dns, alert, access, ... |
| \`raw\` | object | The input fields as parsed |
| \`normalized\` | object | Canonical fields (below) |
| \`enriched\` | object | Derived fields (below) |

## Normalized fields

| field | type | meaning |
|---|---|---|
${rows(NORMALIZED_FIELDS)}

## Enriched fields

| field | type | meaning |
|---|---|---|
${rows(ENRICHED_FIELDS)}
`;
}
