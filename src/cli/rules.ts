import { statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { EXIT, UsageError } from '../core/errors.ts';
import {
  listRuleFiles,
  loadRules,
  logsourceLabel,
  type RuleProblem,
  type RuleSet,
} from '../detect/sigma/load.ts';
import { collectFlag, type LogsourceFlags, ruleLoadOptions } from '../detect/sigma/options.ts';
import { formatOutcomes, runRuleFixtures } from './rules-test.ts';
import { action } from './run-action.ts';

/**
 * `socstream rules check DIR...`: loads Sigma rules exactly as `run` and `detect` do and reports
 * every problem grouped by feature, with counts. Exit 1 when any rule has an error (a rule that
 * is merely unsupported, such as a legacy aggregation, does not fail the check).
 * `register` creates the `rules` command with `program.command` (so it inherits the program's
 * settings, exitOverride included) and hands it to one `add…Command` per subcommand: adding
 * `test` is one function and one line in `register`.
 */

export interface CheckReport {
  files: number;
  rules: number;
  correlations: number;
  /** Compiled rules whose logsource covers no event kind socstream produces. */
  withoutEvents: number;
  /** The same, counted by logsource (`product=windows category=process_creation`). */
  withoutEventsByLogsource: Record<string, number>;
  problems: RuleProblem[];
  /** Rules that run but probably not as meant (filter without not, empty of-pattern, no events). */
  warnings: RuleProblem[];
  errors: number;
}

export function checkRules(
  paths: readonly string[],
  options: Parameters<typeof loadRules>[1] = {},
): CheckReport {
  for (const p of paths) {
    try {
      statSync(p);
    } catch {
      throw new UsageError(`rules check ${p}: no such file or folder`);
    }
  }
  const set: RuleSet = loadRules(paths, options);
  const withoutEventsByLogsource: Record<string, number> = {};
  for (const r of set.rules) {
    if (r.targets.length > 0) continue;
    const key = logsourceLabel(r.logsource);
    withoutEventsByLogsource[key] = (withoutEventsByLogsource[key] ?? 0) + 1;
  }
  return {
    files: listRuleFiles(paths).length,
    rules: set.rules.length,
    correlations: set.correlations.length,
    withoutEvents: set.rules.filter((r) => r.targets.length === 0).length,
    withoutEventsByLogsource,
    problems: set.problems,
    warnings: set.warnings,
    errors: set.problems.filter((p) => p.severity === 'error').length,
  };
}

/** Logsources listed by name in the text report; the rest are summed. */
const LOGSOURCES_SHOWN = 8;

/** Human-readable report: a summary line, then problems grouped by severity and feature. */
export function formatCheckReport(report: CheckReport, base = process.cwd(), verbose = false): string {
  const lines = [
    `${report.files} files: ${report.rules} rules compiled, ${report.correlations} correlation rules, ` +
      `${report.problems.length} problems (${report.errors} errors), ${report.warnings.length} warnings`,
  ];
  if (report.withoutEvents > 0) {
    lines.push(
      `${report.withoutEvents} compiled rules have a logsource no configured logsource covers (they never run; ` +
        'add one under detect.logsources or with --logsource; --verbose lists each rule):',
    );
    const byCount = Object.entries(report.withoutEventsByLogsource).sort((a, b) => b[1] - a[1]);
    for (const [label, n] of byCount.slice(0, LOGSOURCES_SHOWN)) lines.push(`  ${n}\t${label}`);
    const rest = byCount.slice(LOGSOURCES_SHOWN).reduce((sum, [, n]) => sum + n, 0);
    if (rest > 0) lines.push(`  ${rest}\t${byCount.length - LOGSOURCES_SHOWN} other logsources`);
  }
  const groups = new Map<string, RuleProblem[]>();
  // Rules without events are summed by logsource above; listed one by one only with --verbose.
  const warnings = report.warnings.filter((w) => verbose || w.feature !== 'logsource without events');
  for (const p of [...report.problems, ...warnings]) {
    const key = `${p.severity}: ${p.feature}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const ordered = [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const [key, problems] of ordered) {
    lines.push('', `${key} (${problems.length})`);
    for (const p of problems) {
      const who = p.rule_id ? ` [${p.title ?? p.rule_id}]` : '';
      lines.push(`  ${relative(base, p.file)}${who}: ${p.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface CheckFlags extends LogsourceFlags {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

/** --logsource / --field-map, shared by `rules check` and `rules test` (and `detect`). */
function addLogsourceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--logsource <spec>',
      'Add a Sigma logsource: product=NAME[,service=NAME]@SOURCE[/LOG_TYPE] (repeatable)',
      collectFlag,
    )
    .option(
      '--field-map <map>',
      'Sigma field name → event path for --logsource: NAME=PATH (repeatable)',
      collectFlag,
    );
}

export function addCheckCommand(rules: Command): Command {
  const cmd = rules
    .command('check')
    .description('Load Sigma rules and report every unsupported feature and error (exit 1 on errors)')
    .argument('<paths...>', 'Folders or files of Sigma rules')
    .option(
      '--config <file>',
      'socstream.yaml (detect.placeholders, regex_max_length and logsources are used)',
    )
    .option('--json', 'Print the report as JSON')
    .option('--verbose', 'List every rule whose logsource has no events, not only the count per logsource');
  addLogsourceOptions(cmd);
  return cmd.action(
    action(async (paths: string[], flags: CheckFlags) => {
      const { detect } = loadConfig(flags.config);
      const report = checkRules(paths, ruleLoadOptions(detect, flags));
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : formatCheckReport(report, process.cwd(), flags.verbose),
      );
      return report.errors > 0 ? EXIT.runtime : EXIT.ok;
    }),
  );
}

/** `rules test DIR`: each rule file's positive fixture must fire it, the negative one must not (rules-test.ts). */
export function addTestCommand(rules: Command): Command {
  const cmd = rules
    .command('test')
    .description('Run each rule file against DIR/fixtures/<name>/{positive,negative}.* (exit 1 on a failure)')
    .argument('<dir>', 'Folder of Sigma rules with a fixtures/ subfolder')
    .option('--config <file>', 'socstream.yaml (the detect section is used)');
  addLogsourceOptions(cmd);
  return cmd.action(
    action(async (dir: string, flags: LogsourceFlags & { config?: string }) => {
      const { detect } = loadConfig(flags.config);
      try {
        statSync(dir);
      } catch {
        throw new UsageError(`rules test ${dir}: no such folder`);
      }
      const outcomes = await runRuleFixtures(dir, detect, flags);
      process.stdout.write(formatOutcomes(outcomes));
      return outcomes.some((o) => o.failures.length > 0) ? EXIT.runtime : EXIT.ok;
    }),
  );
}

export function register(program: Command): void {
  const rules = program.command('rules').description('Validate Sigma rules and run their fixtures');
  addCheckCommand(rules);
  addTestCommand(rules);
}
