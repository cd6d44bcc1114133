import type { Command } from 'commander';
import * as bench from './bench.ts';
import * as demo from './demo.ts';
import * as detect from './detect.ts';
import * as generate from './generate.ts';
import * as hunt from './hunt.ts';
import * as lake from './lake.ts';
import * as parse from './parse.ts';
import * as query from './query.ts';
import * as rules from './rules.ts';
import * as run from './run.ts';
import * as serve from './serve.ts';
import * as topics from './topics.ts';

/** One entry per subcommand file; adding a command is adding a file and a line here. */
export interface CommandModule {
  register(program: Command): void;
}

export const COMMANDS: readonly CommandModule[] = [
  demo,
  run,
  serve,
  generate,
  parse,
  detect,
  hunt,
  rules,
  topics,
  bench,
  query,
  lake,
];
