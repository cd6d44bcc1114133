import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import type { InputRecord } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { createGenerator, type Generator, type TruthRecord } from '../generate/generator.ts';
import { TokenBucket } from '../generate/pace.ts';
import { SCENARIO_NAMES } from '../generate/scenarios/index.ts';

/**
 * `generator`: synthetic campus traffic with attacks (src/generate, docs/generator.md) as a
 * source, for `socstream demo` and tests. Lines carry their format as `formatHint` (Zeek as JSON,
 * which is self-describing per line). Positions are `{stream, name:<name>@<start ms>, sequence}`,
 * so ids are reproducible for a fixed `start` and distinct between live runs. Nothing to
 * checkpoint: acks are no-ops.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

export const generatorSourceConfig = z
  .object({
    type: z.literal('generator'),
    name: d(z.string().min(1).default('generator'), 'Stream name in positions (and so in ids)'),
    scenario: d(z.enum(SCENARIO_NAMES).default('mixed'), 'Traffic scenario (docs/generator.md)'),
    seed: d(z.number().int().default(1), 'PRNG seed; the same seed and start give the same lines'),
    rate: d(
      z.number().positive().nullable().default(200),
      'Wall-clock events per second (token bucket); null: as fast as the pipeline takes them',
    ),
    time_rate: d(
      z.number().positive().default(100),
      'Event-time events per second when rate is null (how much traffic time a batch covers)',
    ),
    count: d(
      z.number().int().positive().optional(),
      'Stop after this many lines; default: run until stopped',
    ),
    start: d(
      z.string().optional(),
      'Event time of the first line, ISO 8601; default: when the source starts',
    ),
    attack_every_seconds: d(z.number().positive().optional(), 'Event time between attack starts'),
    batch_size: d(z.number().int().positive().default(500), 'Lines per batch at most'),
    truth_path: d(z.string().optional(), 'Write the ground truth (NDJSON) here when the source stops'),
  })
  .strict();

export type GeneratorSourceConfig = z.infer<typeof generatorSourceConfig>;

export class GeneratorSource implements Source {
  readonly #config: GeneratorSourceConfig;
  readonly #telemetry: Telemetry;
  readonly #abort = new AbortController();
  #generator: Generator | null = null;

  constructor(config: GeneratorSourceConfig, telemetry: Telemetry) {
    this.#config = config;
    this.#telemetry = telemetry;
  }

  async start(): Promise<void> {
    const c = this.#config;
    const startMs = c.start === undefined ? Date.now() : Date.parse(c.start);
    if (!Number.isFinite(startMs))
      throw new ConfigError(`generator source: start "${c.start}" is not ISO 8601`);
    this.#generator = createGenerator({
      scenario: c.scenario,
      seed: c.seed,
      startMs,
      eventsPerSecond: c.rate ?? c.time_rate,
      zeek: 'json',
      attackEveryMs: c.attack_every_seconds === undefined ? undefined : c.attack_every_seconds * 1000,
    });
  }

  async healthcheck(): Promise<Health> {
    return { ok: this.#generator !== null && !this.#abort.signal.aborted };
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#config.truth_path && this.#generator) {
      writeFileSync(
        this.#config.truth_path,
        this.truth()
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      );
    }
  }

  /** The ground truth of every attack started so far. */
  truth(): TruthRecord[] {
    return this.#generator?.truth() ?? [];
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    if (!this.#generator) await this.start();
    const generator = this.#generator!;
    const c = this.#config;
    const signal = this.#abort.signal;
    const bucket = c.rate ? new TokenBucket(c.rate) : undefined;
    const total = c.count ?? Number.POSITIVE_INFINITY;
    const name = `${c.name}@${generator.startMs}`;
    const label = { source: `generator:${c.name}` };
    while (!signal.aborted && generator.emitted < total) {
      const want = Math.min(c.batch_size, total - generator.emitted);
      const n = bucket ? bucket.take(want) : want;
      if (n === 0) {
        await sleep(Math.max(1, Math.ceil(bucket!.waitMs())), undefined, { signal }).catch(() => {});
        continue;
      }
      const receivedAt = Date.now();
      const records: InputRecord[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const sequence = generator.emitted;
        const item = generator.nextItem();
        records[i] = {
          text: item.line,
          byteLength: Buffer.byteLength(item.line),
          position: { kind: 'stream', name, sequence },
          formatHint: item.format,
          receivedAt,
        };
      }
      this.#telemetry.sourceRecords.inc(label, n);
      yield { records, ack: async () => {} };
    }
  }
}

export const generatorSource: SourceDefinition<GeneratorSourceConfig> = {
  type: 'generator',
  kind: 'source',
  summary: 'Synthetic campus traffic with attacks in real log formats, paced, with ground truth',
  config: generatorSourceConfig,
  example: { type: 'generator', scenario: 'mixed', rate: 200 },
  create: (config, ctx) => new GeneratorSource(config, ctx.telemetry),
};
