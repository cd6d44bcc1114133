import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isoToEpochMs, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition } from './parser.ts';

/**
 * Suricata EVE JSON. Every event_type (alert, anomaly, flow, netflow, dns v1/v2, http, tls, ssh,
 * fileinfo, smtp, smb, dhcp, krb5, rdp, quic, mqtt, pgsql, stats, drop, ...) keeps its nested
 * objects as they are in raw (`raw.dns.rrname`, `raw.alert.signature`); the log type is the
 * event_type. Timestamps carry an offset in Suricata's own form `+0100` (no colon), handled by
 * the shared ISO parser.
 */
class SuricataEveParser implements Parser {
  readonly format = 'suricata-eve';

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    const raw = line.value;
    const eventType = raw.event_type;
    if (typeof eventType !== 'string' || eventType.length === 0) return reject('missing_field', 'event_type');
    const ts = raw.timestamp;
    if (typeof ts !== 'string') return reject('bad_timestamp', `timestamp=${String(ts).slice(0, 40)}`);
    const eventTimeMs = isoToEpochMs(ts);
    if (eventTimeMs === undefined) return reject('bad_timestamp', `timestamp=${ts.slice(0, 40)}`);
    return accept('suricata', eventType, raw, eventTimeMs);
  }
}

function looksEve(o: Fields): boolean {
  return typeof o.event_type === 'string' && 'timestamp' in o;
}

export const suricataEve: ParserDefinition = {
  format: 'suricata-eve',
  stateless: true,
  source: 'suricata',
  summary: 'Suricata EVE JSON (every event_type; log type = event_type)',
  detect(sampleLines) {
    return 0.95 * jsonScore(sampleLines, looksEve);
  },
  claims: looksEve,
  create() {
    return new SuricataEveParser();
  },
};
