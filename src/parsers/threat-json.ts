import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, jsonEventTime, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition } from './parser.ts';

/**
 * The threat-analyzer seed's events: `{"host": "endpoint01", "threat": "malware.exe",
 * "severity": "high"}`. `threat` is required, `host` too unless the severity is usable; severity is kept as written (the
 * normalizer maps it onto the canonical scale). The seed's events carry no time, so
 * eventTimeMs is set only when a time field is present. Log type `threat`.
 */
const TIME_KEYS = ['timestamp', 'time', '@timestamp', 'ts', 'event_time'] as const;

/** A severity the analyzer can act on: non-empty text once trimmed. */
function usableSeverity(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== '';
}

class ThreatJsonParser implements Parser {
  readonly format = 'threat-json';

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    const raw = line.value;
    // host is optional when the severity is usable (the seed's analyzer alerts on
    // `{"threat": …, "severity": "critical"}` and prints "Host: Unknown"); threat is required.
    if (typeof raw.host !== 'string' && !usableSeverity(raw.severity)) return reject('missing_field', 'host');
    if (typeof raw.threat !== 'string') return reject('missing_field', 'threat');
    const eventTimeMs = jsonEventTime(raw, TIME_KEYS);
    if (typeof eventTimeMs === 'object') return eventTimeMs;
    return accept('threat', 'threat', raw, eventTimeMs);
  }
}

function looksThreat(o: Fields): boolean {
  return typeof o.threat === 'string' && 'severity' in o;
}

export const threatJson: ParserDefinition = {
  format: 'threat-json',
  stateless: true,
  source: 'threat',
  summary: 'Threat-analyzer events {"host", "threat", "severity"}',
  detect(sampleLines) {
    return 0.9 * jsonScore(sampleLines, looksThreat);
  },
  claims: looksThreat,
  create() {
    return new ThreatJsonParser();
  },
};
