#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT } from '../core/errors.ts';
import { COMMANDS } from './commands.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('socstream')
    .description(
      'Streaming security-telemetry pipeline: ingest, normalize, enrich, detect, alert, lake, dashboard',
    )
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help <cmd>` and --version exit 0; unknown options, missing arguments and the like
      // are usage errors. A group (rules, topics, lake) called without a subcommand also prints its
      // help, but as commander.help with exitCode 1: that is bad usage too.
      const ok =
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        (err.code === 'commander.help' && err.exitCode === 0);
      process.exitCode = ok ? EXIT.ok : EXIT.usage;
      return;
    }
    throw err;
  }
}

if (import.meta.main) await main(process.argv);
