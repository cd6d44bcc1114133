import { configErrorFromIssues } from '../core/config-issues.ts';
import type { Fields } from '../core/envelope.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { appJson } from './app-json.ts';
import { authJson } from './auth-json.ts';
import { containerDefinition } from './container.ts';
import { json } from './json.ts';
import { kafkaLog } from './kafka-log.ts';
import { nginx } from './nginx.ts';
import type { ParserDefinition } from './parser.ts';
import { sshd } from './sshd.ts';
import { suricataEve } from './suricata-eve.ts';
import { threatJson } from './threat-json.ts';
import { zeekJson } from './zeek-json.ts';
import { zeekTsv } from './zeek-tsv.ts';

/** The formats a line can be in by itself (and inside a container wrapper). */
const LINE_FORMATS: readonly ParserDefinition[] = [
  zeekTsv,
  zeekJson,
  suricataEve,
  sshd,
  authJson,
  nginx,
  kafkaLog,
  appJson,
  threatJson,
  json,
];

/** Every format, one line each. Adding a format is adding a file and a line here. */
export const PARSERS: readonly ParserDefinition[] = [
  ...LINE_FORMATS.slice(0, -1),
  containerDefinition(LINE_FORMATS),
  json,
];

const BY_FORMAT = new Map(PARSERS.map((p) => [p.format, p]));

export const FORMATS: readonly string[] = PARSERS.map((p) => p.format);

/** The formats that can tell their own JSON objects (ParserDefinition.claims). */
const CLAIMING = PARSERS.filter((p) => p.claims !== undefined);

/** Whether a JSON object a catch-all format parsed carries another format's marker keys. */
export function claimedByAFormat(object: Fields): boolean {
  for (const def of CLAIMING) if (def.claims!(object)) return true;
  return false;
}

/** The definition for a --format name; a UsageError listing the formats when unknown. */
export function parserFor(format: string): ParserDefinition {
  const def = BY_FORMAT.get(format);
  if (def === undefined) {
    throw new UsageError(`unknown format "${format}"; use one of: ${FORMATS.join(', ')}`);
  }
  return def;
}

/**
 * Validates config `parsers.settings` once at load: every key must be a format, every value must
 * pass that format's settings schema (strict: a misspelt key is an error). Errors name the file and
 * the key path (`parsers.settings.nginx.log_fromat`) and exit 2. Returns the settings with defaults.
 */
export function validateParserSettings(
  settings: Record<string, Record<string, unknown>>,
  file: string,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [format, value] of Object.entries(settings)) {
    const def = BY_FORMAT.get(format);
    if (def === undefined) {
      throw new ConfigError(
        `invalid config\n  ${file}: parsers.settings.${format}: unknown format. Fix: use one of: ${FORMATS.join(', ')}`,
      );
    }
    if (def.settings === undefined) {
      if (Object.keys(value).length > 0) {
        throw new ConfigError(
          `invalid config\n  ${file}: parsers.settings.${format}: this format takes no settings. Fix: remove it`,
        );
      }
      out[format] = value;
      continue;
    }
    const checked = def.settings.safeParse(value);
    if (!checked.success)
      throw configErrorFromIssues(file, checked.error.issues, ['parsers', 'settings', format]);
    out[format] = checked.data as Record<string, unknown>;
  }
  return out;
}
