import { UsageError } from '../core/errors.ts';
import { appJson } from './app-json.ts';
import { authJson } from './auth-json.ts';
import { json } from './json.ts';
import { nginx } from './nginx.ts';
import type { ParserDefinition } from './parser.ts';
import { sshd } from './sshd.ts';
import { suricataEve } from './suricata-eve.ts';
import { threatJson } from './threat-json.ts';
import { zeekJson } from './zeek-json.ts';
import { zeekTsv } from './zeek-tsv.ts';

/** Every format, one line each. Adding a format is adding a file and a line here. */
export const PARSERS: readonly ParserDefinition[] = [
  zeekTsv,
  zeekJson,
  suricataEve,
  sshd,
  authJson,
  nginx,
  appJson,
  threatJson,
  json,
];

const BY_FORMAT = new Map(PARSERS.map((p) => [p.format, p]));

export const FORMATS: readonly string[] = PARSERS.map((p) => p.format);

/** The definition for a --format name; a UsageError listing the formats when unknown. */
export function parserFor(format: string): ParserDefinition {
  const def = BY_FORMAT.get(format);
  if (def === undefined) {
    throw new UsageError(`unknown format "${format}"; use one of: ${FORMATS.join(', ')}`);
  }
  return def;
}
