import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import type { Config } from '../config/schema.ts';
import { type Envelope, eventTimeOf } from '../core/envelope.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import type { Alert } from '../detect/alert.ts';
import { createAlertCoalescer } from '../detect/coalesce.ts';
import { summarizeWarnings } from '../detect/sigma/load.ts';
import { collectFlag, type LogsourceFlags } from '../detect/sigma/options.ts';
import { buildEngine, detectorFor, loadRuleSet } from '../pipeline/build.ts';
import type { Processor } from '../pipeline/processor.ts';
import { fileInput, processInput, ReadStats, stdinInput } from '../pipeline/read-input.ts';
import { checkInputFiles } from './inputs.ts';
import { action } from './run-action.ts';

/**
 * `socstream detect --rules DIR [--format F] [--config C] [FILE...]`: hunts over logs of any
 * supported format — read by the pipeline's front half (src/pipeline/read-input.ts), then the
 * detector — and prints alerts as NDJSON on stdout, a summary on stderr. Without FILE it reads
 * stdin. Rejected lines are counted, never fatal.
 */

const BATCH_LINES = 1000;

interface DetectFlags extends LogsourceFlags {
  rules: string[];
  format?: string;
  config?: string;
  /** The JSON field holding the event time (json format), for correlations. */
  timeField?: string;
}

export async function runDetect(
  files: string[],
  flags: DetectFlags,
  write: (alert: Alert) => void,
): Promise<string> {
  checkInputFiles(files);
  const loaded = loadConfig(flags.config);
  if (flags.timeField !== undefined && flags.format !== 'json')
    throw new UsageError('--time-field applies to --format json (other formats know their time field)');
  // --time-field is the json parser's time_field setting, on top of the configured parser settings.
  const config = flags.timeField
    ? {
        ...loaded,
        parsers: {
          ...loaded.parsers,
          settings: {
            ...loaded.parsers.settings,
            json: { ...loaded.parsers.settings.json, time_field: flags.timeField },
          },
        },
      }
    : loaded;
  const ruleSet = loadRuleSet(flags.rules, config.detect, flags);
  for (const w of summarizeWarnings(ruleSet.warnings))
    process.stderr.write(`detect: warning: ${w.title ? `${w.title}: ` : ''}${w.message}\n`);
  const detector = detectorFor(ruleSet, config.detect);
  const engine = buildEngine(config, { logger: createLogger({ level: config.log_level }) }, flags.config);
  // Each alert once when raised, then its updates coalesced (alerts.update_interval_seconds) and
  // marked `"update": true`; the final state of every alert is written at the end.
  const coalescer = createAlertCoalescer({ intervalMs: config.alerts.update_interval_seconds * 1000 });
  const emit = (alerts: Alert[]) => {
    for (const p of coalescer.offer(alerts)) write(p);
  };
  const inputs = files.length > 0 ? files : ['-'];
  await engine.enricher.start();
  const stats = new ReadStats();
  try {
    // Several files are several streams that a live pipeline would receive side by side: merge them
    // by event time, so a second file's events are not "late" behind the first file's.
    const streams = inputs.map((file) =>
      envelopeBatches(file, flags.format, engine.processor, stats, config),
    );
    for await (const merged of mergeByEventTime(streams, BATCH_LINES)) emit(detector.process(merged));
  } finally {
    await engine.enricher.stop();
  }
  emit(detector.advance());
  for (const p of coalescer.flush()) write(p);
  const s = detector.stats();
  const problems = ruleSet.problems.length + s.problems.length;
  return (
    `detect: ${inputs.length} input(s) [${[...stats.formats].join(', ') || 'no data'}], ${stats.lines} lines, ` +
    `${stats.accepted} events, ${stats.rejected} rejected; ${ruleSet.rules.length} rules + ` +
    `${ruleSet.correlations.length} correlations (${problems} skipped, see \`socstream rules check\`); ` +
    `${s.ruleMatches} rule matches, ${s.alertsRaised} alerts raised, ${s.alertsUpdated} updates, ` +
    `${s.lateDropped} late events dropped\n`
  );
}

/** One input's envelopes in batches, read through the front half without holding the whole input. */
async function* envelopeBatches(
  input: string,
  format: string | undefined,
  processor: Processor,
  stats: ReadStats,
  config: Config,
): AsyncGenerator<Envelope[]> {
  const file = input === '-' ? undefined : fileInput(input, format);
  const spec = file ? file.spec : stdinInput(format);
  const stream = (file ? file.open() : process.stdin) as AsyncIterable<Buffer>;
  const options = { maxLineBytes: config.parsers.max_line_bytes };
  for await (const out of processInput(stream, spec, processor, stats, options)) {
    if (out.envelopes.length > 0) yield out.envelopes;
  }
}

const timeOf = (env: Envelope): number => eventTimeOf(env, 0);

/**
 * K-way merge of envelope streams by event time, one buffered batch per stream: repeatedly takes
 * the earliest head. Each stream's own order is kept; a single stream passes through as it is.
 */
export async function* mergeByEventTime(
  streams: AsyncGenerator<Envelope[]>[],
  outBatch: number,
): AsyncGenerator<Envelope[]> {
  if (streams.length === 1) {
    yield* streams[0];
    return;
  }
  const buffers: Envelope[][] = [];
  const heads: number[] = [];
  const live: number[] = [];
  for (let i = 0; i < streams.length; i++) {
    const first = await streams[i].next();
    buffers.push(first.done ? [] : first.value);
    heads.push(0);
    if (!first.done) live.push(i);
  }
  let out: Envelope[] = [];
  while (live.length > 0) {
    let best = live[0];
    for (const i of live) {
      if (timeOf(buffers[i][heads[i]]) < timeOf(buffers[best][heads[best]])) best = i;
    }
    out.push(buffers[best][heads[best]++]);
    if (heads[best] >= buffers[best].length) {
      const next = await streams[best].next();
      if (next.done) live.splice(live.indexOf(best), 1);
      else {
        buffers[best] = next.value;
        heads[best] = 0;
      }
    }
    if (out.length >= outBatch) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('Run Sigma rules and correlations over log files; alerts as NDJSON on stdout')
    // Not variadic: `--rules DIR FILE...` must leave FILE to the arguments. Repeat to add folders.
    // No default value: commander counts a default as given, and --rules is required.
    .requiredOption('--rules <dir>', 'Folder or file of Sigma rules (repeatable)', collect)
    .option('--format <format>', 'Input format (detected from the first lines when omitted)')
    .option('--config <file>', 'socstream.yaml (detect and mappings sections are used)')
    .option(
      '--logsource <spec>',
      'Run rules of a Sigma logsource on these events: product=NAME[,service=NAME]@SOURCE[/LOG_TYPE] (repeatable)',
      collectFlag,
    )
    .option(
      '--field-map <map>',
      'Sigma field name → event path for --logsource: NAME=PATH (repeatable)',
      collectFlag,
    )
    .option(
      '--time-field <field>',
      'With --format json: the field holding the event time (ISO-8601, epoch s/ms)',
    )
    .argument('[files...]', 'Log files; stdin when none')
    .action(
      action(async (files: string[], flags: DetectFlags) => {
        // Alerts go out as they are decided: updates of an alert repeat its id with the new count.
        const summary = await runDetect(files, flags, (a) => process.stdout.write(`${JSON.stringify(a)}\n`));
        process.stderr.write(summary);
        return 0;
      }),
    );
}
