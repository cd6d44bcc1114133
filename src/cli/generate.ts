import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createBus } from '../bus/create.ts';
import { busSchema } from '../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import { UsageError } from '../core/errors.ts';
import { createGenerator, DEFAULT_EVENTS_PER_SECOND, type TruthRecord } from '../generate/generator.ts';
import { busOutput, directoryOutput, type LineOutput, streamOutput } from '../generate/output.ts';
import { runGeneration } from '../generate/run.ts';
import { SCENARIO_NAMES, type ScenarioName } from '../generate/scenarios/index.ts';
import { GEN_FORMATS } from '../generate/types.ts';
import { action } from './run-action.ts';

interface GenerateFlags {
  scenario: string;
  count?: string;
  rate?: string;
  duration?: string;
  seed: string;
  to: string;
  truth?: string;
  start?: string;
  timeRate?: string;
  attackEvery?: string;
  zeek: string;
  brokers: string;
  partitions: string;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/** The plan a set of flags means: how many lines, how fast, event time density. */
export function planFromFlags(f: GenerateFlags): {
  total: number;
  rate?: number;
  eventsPerSecond: number;
} {
  const count = positive('count', f.count);
  const rate = positive('rate', f.rate);
  const duration = positive('duration', f.duration);
  const timeRate = positive('time-rate', f.timeRate);
  if (duration !== undefined && rate === undefined) throw new UsageError('--duration needs --rate');
  if (count !== undefined && duration !== undefined)
    throw new UsageError('give --count or --duration, not both');
  const total =
    count !== undefined
      ? Math.floor(count)
      : rate !== undefined
        ? duration
          ? Math.round(rate * duration)
          : Number.POSITIVE_INFINITY
        : 1000;
  // --time-rate with --rate: paced at one rate, event time as dense as another (the cluster fault
  // tests pace a stream whose content must equal an unpaced reference run's)
  return { total, rate, eventsPerSecond: timeRate ?? rate ?? DEFAULT_EVENTS_PER_SECOND };
}

/**
 * `kafka:TOPIC` publishes through the Bus (acks=all, idempotent, lz4); `{format}` in TOPIC gives
 * one topic per format (`kafka:raw.{format}`). Topics are created with --partitions if missing.
 */
async function kafkaOutput(
  topicTemplate: string,
  f: GenerateFlags,
): Promise<{ output: LineOutput; bus: Bus }> {
  if (!topicTemplate) throw new UsageError('--to kafka:TOPIC needs a topic name');
  const partitions = positive('partitions', f.partitions) ?? 6;
  const bus = createBus(busSchema.parse({ type: 'kafka', kafka: { brokers: f.brokers.split(',') } }));
  const formats = GEN_FORMATS.filter((format) => format !== 'zeek-tsv');
  const names = [...new Set(formats.map((format) => topicTemplate.replaceAll('{format}', format)))];
  await bus.createTopics(names.map((name) => ({ name, partitions })));
  return { output: busOutput(bus, topicTemplate), bus };
}

async function outputFor(f: GenerateFlags, startMs: number): Promise<{ output: LineOutput; bus?: Bus }> {
  const to = f.to;
  if (to === 'stdout' || to === '-') {
    if (f.zeek === 'tsv')
      throw new UsageError('--zeek tsv needs --to file:DIR (Zeek TSV is one file per log, with a header)');
    return { output: streamOutput(process.stdout) };
  }
  if (to.startsWith('file:')) return { output: directoryOutput(to.slice(5), startMs) };
  if (to.startsWith('kafka:')) {
    if (f.zeek === 'tsv')
      throw new UsageError('--zeek tsv needs --to file:DIR; Kafka records carry Zeek as JSON');
    return kafkaOutput(to.slice(6), f);
  }
  throw new UsageError(`--to must be stdout, file:DIR or kafka:TOPIC, got "${to}"`);
}

function writeTruth(path: string, truth: TruthRecord[]): void {
  writeFileSync(path, truth.map((r) => JSON.stringify(r)).join('\n') + (truth.length ? '\n' : ''));
}

function progressLine(events: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : 0;
  return `generate: ${events.toLocaleString('en-US')} events, ${rate.toLocaleString('en-US')}/s`;
}

/** `; 120 records re-sent ...` when the Kafka bus had to re-send records to moved leaders. */
function redeliveryNote(bus: Bus | undefined): string {
  const r = (bus as { redelivered?: { requests: number; records: number; rounds: number } } | undefined)
    ?.redelivered;
  return r && r.requests > 0
    ? `; ${r.records} records of ${r.requests} requests re-sent to their partitions' current leaders (${r.rounds} rounds)`
    : '';
}

export async function generateCommand(f: GenerateFlags): Promise<number> {
  if (!(SCENARIO_NAMES as readonly string[]).includes(f.scenario))
    throw new UsageError(`unknown scenario "${f.scenario}"; use one of: ${SCENARIO_NAMES.join(', ')}`);
  if (f.zeek !== 'json' && f.zeek !== 'tsv') throw new UsageError('--zeek must be json or tsv');
  const seed = Number(f.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${f.seed}"`);
  const startMs = f.start === undefined ? Date.now() : Date.parse(f.start);
  if (!Number.isFinite(startMs)) throw new UsageError(`--start must be an ISO 8601 time, got "${f.start}"`);
  const plan = planFromFlags(f);
  const attackEvery = positive('attack-every', f.attackEvery);
  const generator = createGenerator({
    scenario: f.scenario as ScenarioName,
    seed,
    startMs,
    eventsPerSecond: plan.eventsPerSecond,
    zeek: f.zeek,
    attackEveryMs: attackEvery === undefined ? undefined : attackEvery * 1000,
  });
  const { output, bus } = await outputFor(f, startMs);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = process.stderr.isTTY === true;
  const stats = await runGeneration({
    generator,
    output,
    total: plan.total,
    rate: plan.rate,
    maxInFlight: bus ? 8 : 1,
    signal: abort.signal,
    progressEveryMs: tty ? 250 : 5000,
    onProgress: (n, ms) =>
      process.stderr.write(tty ? `\r${progressLine(n, ms)}   ` : `${progressLine(n, ms)}\n`),
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await output.close(generator.nextTimeMs());
  await bus?.close();
  if (f.truth) writeTruth(f.truth, generator.truth());
  const attacks = generator.truth().length;
  process.stderr.write(
    `${tty ? '\r' : ''}generate: ${stats.events.toLocaleString('en-US')} events in ${(stats.elapsedMs / 1000).toFixed(2)} s ` +
      `(${Math.round(stats.eventsPerSecond).toLocaleString('en-US')} events/s achieved${plan.rate ? `, target ${plan.rate}/s` : ''}), ` +
      `${attacks} attack instance(s)${redeliveryNote(bus)}\n`,
  );
  return 0;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('Synthetic campus traffic with attacks, in the real log formats, with ground truth')
    .requiredOption('--scenario <name>', `one of ${SCENARIO_NAMES.join('|')}`)
    .option('--count <n>', 'lines to write (default 1000 unless --rate is given)')
    .option('--rate <r>', 'wall-clock lines per second (token bucket); event time advances at the same rate')
    .option('--duration <s>', 'with --rate: run this many seconds (count = rate × duration)')
    .option('--seed <n>', 'PRNG seed: the same seed and flags give byte-identical output', '1')
    .option('--to <target>', 'stdout | file:DIR (one file per log) | kafka:TOPIC', 'stdout')
    .option('--truth <path>', 'write the ground truth (one JSON object per attack instance) here')
    .option('--start <iso>', 'event time of the first line (default now)')
    .option(
      '--time-rate <r>',
      `event-time lines per second (default: --rate, else ${DEFAULT_EVENTS_PER_SECOND})`,
    )
    .option('--attack-every <s>', 'event-time seconds between attack starts (default per scenario)')
    .option('--zeek <json|tsv>', 'Zeek as JSON lines or TSV files (tsv needs file:DIR)', 'json')
    .option('--brokers <list>', 'with kafka:TOPIC: bootstrap servers, comma-separated', '127.0.0.1:9092')
    .option('--partitions <n>', 'with kafka:TOPIC: partitions for topics it creates', '6')
    .action(action((flags: GenerateFlags) => generateCommand(flags)));
}
