import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import type { Config } from '../config/schema.ts';
import { type Envelope, eventTimeOf, type InputPosition } from '../core/envelope.ts';
import { UsageError } from '../core/errors.ts';
import { eventId } from '../core/ids.ts';
import { createLogger } from '../core/logger.ts';
import type { Alert } from '../detect/alert.ts';
import { createAlertCoalescer } from '../detect/coalesce.ts';
import { createDetector, type Detector } from '../detect/detector.ts';
import { loadRules, type RuleSet, summarizeWarnings } from '../detect/sigma/load.ts';
import { createMatcher } from '../detect/sigma/matcher.ts';
import { collectFlag, type LogsourceFlags, ruleLoadOptions } from '../detect/sigma/options.ts';
import { createEnricher, type Enricher } from '../enrich/enricher.ts';
import { createNormalizer, type Normalizer } from '../normalize/normalize.ts';
import { detectFormat } from '../parsers/detect-format.ts';
import type { Parser } from '../parsers/parser.ts';
import { parserFor } from '../parsers/registry.ts';
import { action } from './run-action.ts';

/**
 * `socstream detect --rules DIR [--format F] [--config C] [FILE...]`: hunts over logs of any
 * supported format (parse → normalize → detect) and prints alerts as NDJSON on stdout, a summary on
 * stderr. Without FILE it reads stdin. Rejected lines are counted, never fatal.
 */
export interface HuntCounts {
  lines: number;
  events: number;
  rejects: number;
  skipped: number;
}

/** Lines of one input → envelopes, for `detect` and `rules test`. Ids follow the input position. */
export interface EnvelopeReader {
  readonly counts: HuntCounts;
  /** The format in use (detected from the first lines when not given). */
  format(): string | undefined;
  read(lines: readonly string[]): Envelope[];
}

/** Lines used to guess a format when --format is not given. */
const DETECT_SAMPLE_LINES = 20;

export function createEnvelopeReader(options: {
  name: string;
  format?: string;
  normalizer: Normalizer;
  /** Started enricher (IOC lists, assets, GeoIP); without one only the normalized layer is filled. */
  enricher?: Enricher;
  receivedAt?: number;
  /** Parser settings (`--time-field` → the json parser's time_field). */
  parserSettings?: Record<string, unknown>;
}): EnvelopeReader {
  const { normalizer, enricher } = options;
  const counts: HuntCounts = { lines: 0, events: 0, rejects: 0, skipped: 0 };
  const receivedAt = options.receivedAt ?? Date.now();
  let format = options.format;
  const settings = options.parserSettings;
  let parser: Parser | undefined = format
    ? parserFor(format).create({ referenceTimeMs: receivedAt, ...(settings ? { settings } : {}) })
    : undefined;
  let byteOffset = 0;
  return {
    counts,
    format: () => format,
    read(lines) {
      if (!parser) {
        format = detectFormat(lines.slice(0, DETECT_SAMPLE_LINES));
        if (!format) throw new UsageError(`cannot tell the format of ${options.name}; pass --format`);
        parser = parserFor(format).create({ referenceTimeMs: receivedAt, ...(settings ? { settings } : {}) });
      }
      const out: Envelope[] = [];
      for (const text of lines) {
        counts.lines++;
        const position: InputPosition = {
          kind: 'file',
          path: options.name,
          fileId: options.name,
          offset: byteOffset,
        };
        byteOffset += Buffer.byteLength(text) + 1;
        const result = parser.parse({ text, byteLength: Buffer.byteLength(text), position, receivedAt });
        if (!result.ok) {
          counts.rejects++;
          continue;
        }
        if (result.records.length === 0) counts.skipped++;
        for (let i = 0; i < result.records.length; i++) {
          const rec = result.records[i];
          counts.events++;
          const env = normalizer.normalize(rec, eventId(position, i), receivedAt);
          enricher?.enrich(env, normalizer.enrichmentsFor(env.source, env.log_type));
          out.push(env);
        }
      }
      return out;
    },
  };
}

/** Loads rules as the detector wants them; problems go to the caller. */
export function loadRuleSet(
  paths: readonly string[],
  detect: Config['detect'],
  flags: LogsourceFlags = {},
): RuleSet {
  for (const p of paths) {
    try {
      statSync(p);
    } catch {
      throw new UsageError(`--rules ${p}: no such file or folder`);
    }
  }
  return loadRules(paths, ruleLoadOptions(detect, flags));
}

export function detectorFor(ruleSet: RuleSet, detect: Config['detect']): Detector {
  return createDetector({ ruleSet, config: detect, matcher: createMatcher(ruleSet.rules) });
}

/** Batches of lines from a file (or stdin for '-'), without holding the whole input. */
async function* lineBatches(path: string, size: number): AsyncGenerator<string[]> {
  const input = path === '-' ? process.stdin : createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let batch: string[] = [];
  for await (const line of rl) {
    if (line === '') continue;
    batch.push(line);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

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
  const config = loadConfig(flags.config);
  if (flags.timeField !== undefined && flags.format !== 'json')
    throw new UsageError('--time-field applies to --format json (other formats know their time field)');
  const ruleSet = loadRuleSet(flags.rules, config.detect, flags);
  for (const w of summarizeWarnings(ruleSet.warnings))
    process.stderr.write(`detect: warning: ${w.title ? `${w.title}: ` : ''}${w.message}\n`);
  const detector = detectorFor(ruleSet, config.detect);
  const normalizer = createNormalizer({ extraMappings: config.mappings });
  const enricher = createEnricher(config.enrich, { logger: createLogger({ level: config.log_level }) });
  await enricher.start();
  // Each alert once when raised, then its updates coalesced (alerts.update_interval_seconds) and
  // marked `"update": true`; the final state of every alert is written at the end.
  const coalescer = createAlertCoalescer({ intervalMs: config.alerts.update_interval_seconds * 1000 });
  try {
    const summary = await hunt(files, flags, { ruleSet, detector, normalizer, enricher }, (a) => {
      for (const p of coalescer.offer([a])) write(p);
    });
    for (const p of coalescer.flush()) write(p);
    return summary;
  } finally {
    await enricher.stop();
  }
}

async function hunt(
  files: string[],
  flags: DetectFlags,
  parts: { ruleSet: RuleSet; detector: Detector; normalizer: Normalizer; enricher: Enricher },
  write: (alert: Alert) => void,
): Promise<string> {
  const { ruleSet, detector, normalizer, enricher } = parts;
  const inputs = files.length > 0 ? files : ['-'];
  const total: HuntCounts = { lines: 0, events: 0, rejects: 0, skipped: 0 };
  const readers = inputs.map((file) => {
    const reader = createEnvelopeReader({
      name: file === '-' ? 'stdin' : resolve(file),
      normalizer,
      enricher,
      ...(flags.format ? { format: flags.format } : {}),
      ...(flags.timeField ? { parserSettings: { time_field: flags.timeField } } : {}),
    });
    return { reader, batches: lineBatches(file, BATCH_LINES) };
  });
  // Several files are several streams that a live pipeline would receive side by side: merge them
  // by event time, so a second file's events are not "late" behind the first file's.
  for await (const merged of mergeByEventTime(
    readers.map(({ reader, batches }) => envelopeBatches(reader, batches)),
    BATCH_LINES,
  )) {
    for (const a of detector.process(merged)) write(a);
  }
  const formats = new Set<string>();
  for (const { reader } of readers) {
    for (const k of Object.keys(total) as Array<keyof HuntCounts>) total[k] += reader.counts[k];
    const f = reader.format();
    if (f) formats.add(f);
  }
  for (const a of detector.advance()) write(a);
  const s = detector.stats();
  const problems = ruleSet.problems.length + s.problems.length;
  return (
    `detect: ${inputs.length} input(s) [${[...formats].join(', ') || 'no data'}], ${total.lines} lines, ` +
    `${total.events} events, ${total.rejects} rejected; ${ruleSet.rules.length} rules + ` +
    `${ruleSet.correlations.length} correlations (${problems} skipped, see \`socstream rules check\`); ` +
    `${s.ruleMatches} rule matches, ${s.alertsRaised} alerts raised, ${s.alertsUpdated} updates, ` +
    `${s.lateDropped} late events dropped\n`
  );
}

async function* envelopeBatches(
  reader: EnvelopeReader,
  lines: AsyncGenerator<string[]>,
): AsyncGenerator<Envelope[]> {
  for await (const batch of lines) {
    const envs = reader.read(batch);
    if (envs.length > 0) yield envs;
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

/** Reads a small fixture file whole (rules test). */
export function readLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
}
