#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help } from 'commander';
import { EXIT } from '../core/errors.ts';
import { holdStopSignals } from './early-signals.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The commands are loaded here, not imported at the top: see main(). With `command`, only that
 * command's module is loaded (commands.ts); without, all of them (help lists every command).
 */
export async function buildProgram(command?: string, options: { listOnly?: boolean } = {}): Promise<Command> {
  const { COMMAND_SUMMARIES, loadCommands } = await import('./commands.ts');
  const program = new Command('socstream')
    .description(
      'Streaming security-telemetry pipeline: ingest, normalize, enrich, detect, alert, lake, dashboard',
    )
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  if (options.listOnly) {
    // The top-level help lists the commands from their summaries; no command module is loaded.
    const help = new Help();
    program.configureHelp({
      subcommandTerm: (cmd) => COMMAND_SUMMARIES[cmd.name()]?.term ?? help.subcommandTerm(cmd),
    });
    for (const [name, summary] of Object.entries(COMMAND_SUMMARIES))
      program.command(name).description(summary.description);
    return program;
  }
  for (const c of await loadCommands(command)) c.register(program);
  return program;
}

/** `socstream`, `--help`, `--version`, `help`: answered from the command summaries alone. */
const LIST_ONLY_ARGS: ReadonlySet<string | undefined> = new Set([
  undefined,
  '--help',
  '-h',
  '--version',
  '-V',
]);

export async function main(argv: string[]): Promise<void> {
  // `run` holds SIGTERM/SIGINT before every command module loads (over a second): a supervisor's
  // stop during start-up then ends in the graceful shutdown, not in an exit by signal.
  if (argv[2] === 'run') holdStopSignals();
  const listOnly = LIST_ONLY_ARGS.has(argv[2]) || (argv[2] === 'help' && argv.length === 3);
  const program = await buildProgram(argv[2], { listOnly });
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
