import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, jsonEventTime, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition } from './parser.ts';

/**
 * Structured application logs, shaped like the observability seed's FastAPI logs:
 * `{"service": "fastapi", "event": "login_failed", "username": ..., "ip": ..., "level": ...,
 * "user_id", "role", "device_type", "browser", "os", "is_bot", "duration_ms", "status",
 * "failed_attempts_window", "retry_after", ...}`. Every field is kept in raw as logged (the seed's
 * Lua parser turned them into strings; JSON already types them). The Docker json-file wrapper that
 * the seed's Fluent Bit tailed (`{"log": "<the JSON line>\n", "stream": ..., "time": ...}`) is
 * unwrapped, its `time` used when the inner line has none. Log type `app`.
 */
const TIME_KEYS = ['timestamp', 'time', '@timestamp', 'asctime', 'ts'] as const;

function unwrapDocker(o: Fields): Fields {
  const log = o.log;
  if (typeof log !== 'string' || typeof o.stream !== 'string' || log.charCodeAt(0) !== 123) return o;
  try {
    const inner = JSON.parse(log) as unknown;
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return o;
    const fields = inner as Fields;
    if (fields.time === undefined && fields.timestamp === undefined && o.time !== undefined)
      fields.time = o.time;
    return fields;
  } catch {
    return o;
  }
}

class AppJsonParser implements Parser {
  readonly format = 'app-json';

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    const raw = unwrapDocker(line.value);
    if (typeof raw.event !== 'string' && typeof raw.message !== 'string' && typeof raw.msg !== 'string') {
      return reject('missing_field', 'event');
    }
    const eventTimeMs = jsonEventTime(raw, TIME_KEYS);
    if (typeof eventTimeMs === 'object') return eventTimeMs;
    return accept('app', 'app', raw, eventTimeMs);
  }
}

function looksApp(o: Fields): boolean {
  const inner = unwrapDocker(o);
  return typeof inner.service === 'string' && typeof inner.event === 'string';
}

export const appJson: ParserDefinition = {
  format: 'app-json',
  stateless: true,
  source: 'app',
  summary:
    'Application JSON logs (FastAPI-style service/event/username/ip/level...), Docker wrapper unwrapped',
  detect(sampleLines) {
    return 0.9 * jsonScore(sampleLines, looksApp);
  },
  claims: looksApp,
  create() {
    return new AppJsonParser();
  },
};
