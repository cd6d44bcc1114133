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

/**
 * What `socstream --help` lists for each command (its term and summary), so the top-level help and
 * --version start without loading every command module (that took 2–3 s: DuckDB, Kafka clients,
 * the web server). test/cli/commands.test.ts checks it against the modules' own help.
 */
export const COMMAND_SUMMARIES: Readonly<Record<string, { term: string; description: string }>> = {
  demo: {
    term: 'demo [options]',
    description: 'embedded all-in-one: generated traffic with attacks, detection, lake, dashboard',
  },
  run: {
    term: 'run [options]',
    description: 'run the pipeline as configured (all roles, or the ones named)',
  },
  serve: {
    term: 'serve [options]',
    description: 'the HTTP API and dashboard over the lake and the alert store',
  },
  generate: {
    term: 'generate [options]',
    description: 'Synthetic campus traffic with attacks, in the real log formats, with ground truth',
  },
  parse: {
    term: 'parse [options] [files...]',
    description: 'Parse log files (or stdin) into envelopes: NDJSON on stdout, rejects as JSON on stderr',
  },
  detect: {
    term: 'detect [options] [files...]',
    description: 'Run Sigma rules and correlations over log files; alerts as NDJSON on stdout',
  },
  hunt: {
    term: 'hunt [options]',
    description: 'Run Sigma rules and correlations over the lake history; alerts as NDJSON on stdout',
  },
  rules: { term: 'rules', description: 'Validate Sigma rules and run their fixtures' },
  topics: { term: 'topics', description: 'create or list the Kafka topics socstream uses' },
  bench: {
    term: 'bench [options]',
    description:
      'Run bench/*.bench.ts: throughput, latency and memory against targets; Markdown table + bench/results.json',
  },
  query: {
    term: 'query [options] <sql>',
    description: 'SQL over the Parquet lake: a view per log type (conn, dns, ssh, …) and events over all',
  },
  lake: { term: 'lake', description: 'Maintain the Parquet lake (compaction, retention)' },
};

/** The module of `name` alone when it is a command; every module otherwise (`--help`, `help x`, typos). */
export async function loadCommands(name?: string): Promise<CommandModule[]> {
  const one = name !== undefined ? COMMAND_LOADERS[name] : undefined;
  if (one && Object.hasOwn(COMMAND_LOADERS, name as string)) return [await one()];
  return Promise.all(Object.values(COMMAND_LOADERS).map((load) => load()));
}
