import { flowId } from './prng.ts';
import { eveTime } from './time-format.ts';
import type { GeneratedItem, WriteContext } from './types.ts';

/**
 * Suricata EVE JSON, one event per line, keys in Suricata's order (timestamp, flow_id, event_type,
 * src/dest, proto, then the per-type object). Compare /work/shared/data/suricata/surevego/eve.json.
 * Suricata escapes "/" as "\/" in strings (it uses jansson with JSON_ESCAPE_SLASH).
 */
export interface EveFlowTuple {
  srcIp: string;
  srcPort: number;
  destIp: string;
  destPort: number;
  proto: 'TCP' | 'UDP';
}

const escapeSlashes = (json: string): string => json.replaceAll('/', '\\/');

function head(ctx: WriteContext, timeMs: number, type: string, t: EveFlowTuple): string {
  const micros = ctx.rng.int(1000);
  return (
    `{"timestamp":"${eveTime(timeMs, micros)}","flow_id":${flowId(ctx.rng)},"in_iface":"eth0","event_type":"${type}",` +
    `"src_ip":"${t.srcIp}","src_port":${t.srcPort},"dest_ip":"${t.destIp}","dest_port":${t.destPort},"proto":"${t.proto}"`
  );
}

function item(line: string, type: string, timeMs: number, key: string): GeneratedItem {
  return { format: 'suricata-eve', line, logTypeHint: type, timeMs, key };
}

export interface EveAlert {
  signatureId: number;
  signature: string;
  category: string;
  severity: 1 | 2 | 3;
  rev?: number;
}

export function eveAlert(ctx: WriteContext, timeMs: number, t: EveFlowTuple, a: EveAlert): GeneratedItem {
  const alert = JSON.stringify({
    action: 'allowed',
    gid: 1,
    signature_id: a.signatureId,
    rev: a.rev ?? 3,
    signature: a.signature,
    category: a.category,
    severity: a.severity,
  });
  return item(
    `${head(ctx, timeMs, 'alert', t)},"tx_id":0,"alert":${escapeSlashes(alert)}}`,
    'alert',
    timeMs,
    t.srcIp,
  );
}

export interface EveFlow {
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  durationMs: number;
  state: 'new' | 'established' | 'closed';
  reason: 'timeout' | 'shutdown';
  appProto?: string;
}

export function eveFlow(ctx: WriteContext, timeMs: number, t: EveFlowTuple, f: EveFlow): GeneratedItem {
  const start = eveTime(timeMs - f.durationMs, ctx.rng.int(1000));
  const end = eveTime(timeMs, 0);
  const app = f.appProto ? `,"app_proto":"${f.appProto}"` : '';
  const line =
    `${head(ctx, timeMs, 'flow', t)}${app},"flow":{"pkts_toserver":${f.pktsToServer},"pkts_toclient":${f.pktsToClient},` +
    `"bytes_toserver":${f.bytesToServer},"bytes_toclient":${f.bytesToClient},"start":"${start}","end":"${end}",` +
    `"age":${Math.floor(f.durationMs / 1000)},"state":"${f.state}","reason":"${f.reason}","alerted":false}}`;
  return item(line, 'flow', timeMs, t.srcIp);
}

export function eveDns(
  ctx: WriteContext,
  timeMs: number,
  t: EveFlowTuple,
  query: { id: number; rrname: string; rrtype: string },
): GeneratedItem {
  const dns = JSON.stringify({
    type: 'query',
    id: query.id,
    rrname: query.rrname,
    rrtype: query.rrtype,
    tx_id: 0,
  });
  return item(`${head(ctx, timeMs, 'dns', t)},"dns":${dns}}`, 'dns', timeMs, t.srcIp);
}

export interface EveHttp {
  hostname: string;
  url: string;
  userAgent: string;
  method: string;
  status: number;
  length: number;
  contentType: string;
}

export function eveHttp(ctx: WriteContext, timeMs: number, t: EveFlowTuple, h: EveHttp): GeneratedItem {
  const http = JSON.stringify({
    hostname: h.hostname,
    url: h.url,
    http_user_agent: h.userAgent,
    http_content_type: h.contentType,
    http_method: h.method,
    protocol: 'HTTP/1.1',
    status: h.status,
    length: h.length,
  });
  return item(
    `${head(ctx, timeMs, 'http', t)},"tx_id":0,"http":${escapeSlashes(http)}}`,
    'http',
    timeMs,
    t.srcIp,
  );
}

export function eveTls(
  ctx: WriteContext,
  timeMs: number,
  t: EveFlowTuple,
  tls: { sni: string; version: string; subject: string; issuer: string; ja3: string },
): GeneratedItem {
  const body = JSON.stringify({
    subject: tls.subject,
    issuerdn: tls.issuer,
    sni: tls.sni,
    version: tls.version,
    ja3: { hash: tls.ja3 },
  });
  return item(`${head(ctx, timeMs, 'tls', t)},"tls":${body}}`, 'tls', timeMs, t.srcIp);
}
