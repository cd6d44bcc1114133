import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, firstPresent, jsonEventTime, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition } from './parser.ts';

/**
 * Authentication events as JSON, the shape the SOC-project seed streams to Kafka `auth_events`
 * (user, source IP, outcome, method, host, time). Producers name these fields differently, so
 * each is looked up in a short alias list; raw keeps every field as sent and the normalizer's
 * auth-json mapping picks the canonical ones. A user and a source IP are required.
 */
export const AUTH_JSON_ALIASES = {
  user: ['user', 'username', 'user_name', 'email', 'account'],
  src_ip: ['src_ip', 'source_ip', 'ip', 'client_ip', 'remote_ip', 'ip_address'],
  outcome: ['outcome', 'result', 'status', 'success', 'event_outcome'],
  time: ['event_time', 'timestamp', '@timestamp', 'time', 'ts'],
} as const;

class AuthJsonParser implements Parser {
  readonly format = 'auth-json';

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    const raw = line.value;
    if (firstPresent(raw, AUTH_JSON_ALIASES.user) === undefined) return reject('missing_field', 'user');
    if (firstPresent(raw, AUTH_JSON_ALIASES.src_ip) === undefined) return reject('missing_field', 'src_ip');
    const eventTimeMs = jsonEventTime(raw, AUTH_JSON_ALIASES.time);
    if (typeof eventTimeMs === 'object') return eventTimeMs;
    return accept('auth', 'auth', raw, eventTimeMs);
  }
}

function looksAuth(o: Fields): boolean {
  const hasOutcome =
    firstPresent(o, AUTH_JSON_ALIASES.outcome) !== undefined || typeof o.success === 'boolean';
  return (
    hasOutcome &&
    firstPresent(o, AUTH_JSON_ALIASES.user) !== undefined &&
    firstPresent(o, AUTH_JSON_ALIASES.src_ip) !== undefined
  );
}

export const authJson: ParserDefinition = {
  format: 'auth-json',
  stateless: true,
  source: 'auth',
  summary: 'Authentication events as JSON (user, source IP, outcome, method, host, time)',
  detect(sampleLines) {
    return 0.8 * jsonScore(sampleLines, looksAuth);
  },
  claims: looksAuth,
  create() {
    return new AuthJsonParser();
  },
};
