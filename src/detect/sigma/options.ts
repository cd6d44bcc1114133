/**
 * socstream.yaml `detect` (and the CLI's `--logsource` / `--field-map`) → the options of
 * loadRules, in one place, so `run`, `detect`, `rules check` and `rules test` load rules alike.
 */

import { UsageError } from '../../core/errors.ts';
import type { DetectConfig } from '../detect-schema.ts';
import type { LoadOptions } from './load.ts';
import { type LogsourceEntry, logsourceFromFlags } from './logsources.ts';

export interface LogsourceFlags {
  /** `--logsource product=NAME@SOURCE[/LOG_TYPE]`, repeatable. */
  logsource?: readonly string[];
  /** `--field-map SIGMA_NAME=PATH`, repeatable; applies to the `--logsource` entries. */
  fieldMap?: readonly string[];
}

/** The CLI flags as logsource entries; a malformed flag is a usage error (exit 2) naming it. */
export function logsourcesFromFlags(flags: LogsourceFlags): LogsourceEntry[] {
  if ((flags.fieldMap?.length ?? 0) > 0 && (flags.logsource?.length ?? 0) === 0)
    throw new UsageError('--field-map needs a --logsource to apply to (e.g. --logsource product=myapp@json)');
  return (flags.logsource ?? []).map((spec) => logsourceFromFlags(spec, flags.fieldMap));
}

export function ruleLoadOptions(detect: DetectConfig, flags: LogsourceFlags = {}): LoadOptions {
  return {
    placeholders: detect.placeholders,
    regexMaxLength: detect.regex_max_length,
    extraLogsources: [...(detect.logsources ?? []), ...logsourcesFromFlags(flags)],
  };
}

/** Commander's collector for repeatable flags. */
export function collectFlag(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
