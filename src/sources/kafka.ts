import { z } from 'zod';
import type { CommitOffsets, ConsumedRecord, Subscription } from '../core/bus.ts';
import type { ComponentContext, Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import type { InputPosition, InputRecord } from '../core/envelope.ts';
import { SourceUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { ContiguousAcks } from './acks.ts';

/**
 * `kafka`: raw topics consumed through the bus (`ctx.bus`: Kafka, or the memory bus when
 * embedded), one topic per source or several mixed (then the parsers' detection decides).
 * Offsets are committed on ack, and only up to the longest acked prefix of batches, so a crash
 * re-delivers instead of losing. The position is the record's topic/partition/offset — unless the
 * record was published by socstream's ingest role, whose `socstream-position` header carries the
 * original input position (file + offset...), so ids are the same as when the pipeline runs
 * embedded and a line the ingest role published twice still gets one id.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

export const kafkaSourceConfig = z
  .object({
    type: z.literal('kafka'),
    name: d(z.string().min(1).default('kafka'), 'Names the source in metrics and logs'),
    topics: d(z.array(z.string().min(1)).min(1), 'Raw topics to consume'),
    group: d(z.string().min(1).default('socstream-ingest'), 'Consumer group id'),
    format: d(z.string().optional(), 'Parser format for every topic; default: detected'),
    formats: d(z.record(z.string(), z.string()).default({}), 'Per-topic parser format, overriding `format`'),
    from: d(z.enum(['earliest', 'latest']).default('earliest'), 'Where a group without a commit starts'),
    max_batch_records: d(z.number().int().positive().default(1000), 'Records per batch at most'),
    max_wait_ms: d(z.number().int().positive().default(500), 'Wait this long to fill a batch'),
    max_message_bytes: d(
      z.number().int().positive().default(1_048_576),
      'Longer values are cut and rejected',
    ),
  })
  .strict();

export type KafkaSourceConfig = z.infer<typeof kafkaSourceConfig>;

const HEADER_POSITION = 'socstream-position';
const HEADER_FORMAT = 'socstream-format';
const HEADER_BYTES = 'socstream-byte-length';
const decoder = new TextDecoder();

/** The original position from the ingest role's header, if it is a well-formed one. */
export function headerPosition(value: string | undefined): InputPosition | undefined {
  if (!value) return undefined;
  let p: InputPosition;
  try {
    p = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (p === null || typeof p !== 'object') return undefined;
  if (p.kind === 'file' && typeof p.fileId === 'string' && Number.isSafeInteger(p.offset)) return p;
  if (p.kind === 'stream' && typeof p.name === 'string' && Number.isSafeInteger(p.sequence)) return p;
  if (p.kind === 'kafka' && typeof p.topic === 'string' && typeof p.offset === 'string') return p;
  return undefined;
}

/** Offsets to commit after a batch: per partition, the one after its last record. */
export function nextOffsets(records: readonly ConsumedRecord[]): CommitOffsets {
  const last = new Map<string, CommitOffsets[number]>();
  for (const r of records) {
    const key = `${r.topic}\u0000${r.partition}`;
    const seen = last.get(key);
    if (!seen || seen.offset <= r.offset)
      last.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1n });
  }
  return [...last.values()];
}

class KafkaSource implements Source {
  readonly #config: KafkaSourceConfig;
  readonly #ctx: ComponentContext;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #label: string;
  readonly #acks = new ContiguousAcks<CommitOffsets>();
  #subscription: Subscription | null = null;
  #stopped = false;

  constructor(config: KafkaSourceConfig, ctx: ComponentContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#label = `kafka:${config.name}`;
    this.#logger = ctx.logger.child({ component: 'source.kafka', name: config.name });
    this.#telemetry = ctx.telemetry;
  }

  async start(): Promise<void> {
    if (this.#subscription) return;
    const bus = this.#ctx.bus;
    if (!bus) throw new SourceUnavailableError('the kafka source needs a bus (set bus.type: kafka)');
    this.#subscription = await bus.subscribe({
      group: this.#config.group,
      topics: this.#config.topics,
      from: this.#config.from,
      maxBatchRecords: this.#config.max_batch_records,
      maxWaitMs: this.#config.max_wait_ms,
    });
    this.#logger.info({ topics: this.#config.topics, group: this.#config.group }, 'subscribed');
  }

  async healthcheck(): Promise<Health> {
    return this.#subscription && !this.#stopped ? { ok: true } : { ok: false, detail: 'not subscribed' };
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.#stopped = true;
    const sub = this.#subscription;
    this.#subscription = null;
    await sub?.close();
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    await this.start();
    const sub = this.#subscription;
    if (!sub) return;
    for await (const consumed of sub) {
      if (this.#stopped) break;
      if (!consumed.records.length) continue;
      const records = consumed.records.map((r) => this.#toInput(r));
      this.#telemetry.sourceRecords.inc({ source: this.#label }, records.length);
      const entry = this.#acks.add(nextOffsets(consumed.records));
      yield { records, ack: () => this.#acked(sub, entry) };
    }
  }

  #toInput(r: ConsumedRecord): InputRecord {
    const headers = r.headers;
    const value = r.value;
    const cutHere = value.length > this.#config.max_message_bytes;
    const text = decoder.decode(cutHere ? value.subarray(0, this.#config.max_message_bytes) : value);
    const header = headers?.[HEADER_BYTES] ? Number(headers[HEADER_BYTES]) : Number.NaN;
    const original = Number.isSafeInteger(header) && header > value.length ? header : value.length;
    // The ingest role sends a too-long line's head with its full length: UTF-8 re-encoding never
    // shrinks text (U+FFFD is at least as long as the bytes it replaces), so fewer bytes than the
    // original length means the source cut it.
    const tooLong = cutHere || original > value.length;
    const record: InputRecord = {
      text,
      byteLength: original,
      position: headerPosition(headers?.[HEADER_POSITION]) ?? {
        kind: 'kafka',
        topic: r.topic,
        partition: r.partition,
        offset: r.offset.toString(),
      },
      formatHint: this.#config.formats[r.topic] ?? this.#config.format ?? headers?.[HEADER_FORMAT],
      receivedAt: r.timestamp,
    };
    if (tooLong) record.tooLong = true;
    return record;
  }

  async #acked(sub: Subscription, entry: ReturnType<ContiguousAcks<CommitOffsets>['add']>): Promise<void> {
    const released = this.#acks.ack(entry);
    if (!released.length) return;
    // Several released batches: the latest offset per partition covers them all.
    const merged = new Map<string, CommitOffsets[number]>();
    for (const offsets of released) {
      for (const o of offsets) {
        const key = `${o.topic}\u0000${o.partition}`;
        const seen = merged.get(key);
        if (!seen || seen.offset < o.offset) merged.set(key, o);
      }
    }
    await sub.commitOffsets([...merged.values()]);
  }
}

export const kafkaSource: SourceDefinition<KafkaSourceConfig> = {
  type: 'kafka',
  kind: 'source',
  summary: 'Consumes raw topics through the bus, committing offsets on ack',
  config: kafkaSourceConfig,
  example: { type: 'kafka', topics: ['raw.zeek'] },
  create: (config, ctx) => new KafkaSource(config, ctx),
};
