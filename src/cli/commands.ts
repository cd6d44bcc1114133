import type { Command } from 'commander';

/** One entry per subcommand file; adding a command is adding a file and a line here. */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * Command name → its module, loaded on demand: `socstream detect …` loads detect's module and what
 * it imports, not DuckDB, Kafka clients and the web server of the other commands (issue 15: a
 * `detect` or `rules test` process started in ~4 s; rule authors start many).
 */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  demo: () => import('./demo.ts'),
  run: () => import('./run.ts'),
  serve: () => import('./serve.ts'),
  generate: () => import('./generate.ts'),
  parse: () => import('./parse.ts'),
  detect: () => import('./detect.ts'),
  hunt: () => import('./hunt.ts'),
  rules: () => import('./rules.ts'),
  topics: () => import('./topics.ts'),
  bench: () => import('./bench.ts'),
  query: () => import('./query.ts'),
  lake: () => import('./lake.ts'),
};

/** The module of `name` alone when it is a command; every module otherwise (`--help`, `help x`, typos). */
export async function loadCommands(name?: string): Promise<CommandModule[]> {
  const one = name !== undefined ? COMMAND_LOADERS[name] : undefined;
  if (one && Object.hasOwn(COMMAND_LOADERS, name as string)) return [await one()];
  return Promise.all(Object.values(COMMAND_LOADERS).map((load) => load()));
}
