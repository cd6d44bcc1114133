import { z } from 'zod';
import type { InputRecord } from '../core/envelope.ts';
import { accept, jsonEventTime, jsonScore, parseJsonObject, reject } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';

/**
 * Any NDJSON. The event time comes from the configured `time_field` (ISO 8601, epoch seconds or
 * epoch milliseconds), else the first of timestamp/@timestamp/time/ts present; the log type from
 * `log_type` (or the source's hint), else `json`. Raw is the object as sent.
 */
export const jsonSettings = z
  .object({
    time_field: z.string().optional().describe('Field holding the event time (ISO 8601 or epoch s/ms)'),
    log_type: z.string().optional().describe('Log type of these records (default: json)'),
    source: z.string().optional().describe('Source family name in the envelope (default: json)'),
  })
  .strict();

const DEFAULT_TIME_KEYS = ['timestamp', '@timestamp', 'time', 'ts'] as const;

class JsonParser implements Parser {
  readonly format = 'json';
  private readonly timeKeys: readonly string[];
  private readonly logType: string;
  private readonly source: string;
  private readonly timeRequired: boolean;

  constructor(options: ParserOptions) {
    const settings = jsonSettings.parse(options.settings ?? {});
    this.timeKeys = settings.time_field === undefined ? DEFAULT_TIME_KEYS : [settings.time_field];
    this.timeRequired = settings.time_field !== undefined;
    // A name (`firewall.json`) is a hint this catch-all takes: no line of its own says its type.
    this.logType = settings.log_type ?? options.logType ?? options.nameLogType ?? 'json';
    this.source = settings.source ?? 'json';
  }

  parse(record: InputRecord): ParseResult {
    const line = parseJsonObject(record.text);
    if (line.verdict) return line.verdict;
    const raw = line.value;
    const eventTimeMs = jsonEventTime(raw, this.timeKeys);
    if (typeof eventTimeMs === 'object') return eventTimeMs;
    if (eventTimeMs === undefined && this.timeRequired) return reject('missing_field', this.timeKeys[0]);
    return accept(this.source, this.logType, raw, eventTimeMs);
  }
}

export const json: ParserDefinition = {
  format: 'json',
  stateless: true,
  source: 'json',
  catchAll: true,
  summary: 'Any NDJSON, with a configured time field and log type',
  settings: jsonSettings,
  detect(sampleLines) {
    return 0.4 * jsonScore(sampleLines, () => true);
  },
  create(options = {}) {
    return new JsonParser(options);
  },
};
