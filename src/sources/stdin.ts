import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { type FramedLine, LineFramer, toInputRecords } from './lines.ts';

/**
 * `stdin`: newline-framed lines from standard input until EOF. Nothing to checkpoint (a pipe
 * cannot be re-read), so acks only pace the reader. The position is the line's byte offset in the
 * stream under `name`, so the same input piped twice gives the same ids — give each feed its own
 * `name` when several feeds go to one idempotent store.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

export const stdinSourceConfig = z
  .object({
    type: z.literal('stdin'),
    name: d(z.string().min(1).default('stdin'), 'Stream name in positions (and so in ids)'),
    format: d(z.string().optional(), 'Parser format; default: detected from the first lines'),
    max_line_bytes: d(z.number().int().positive().default(1_048_576), 'Longer lines are cut and rejected'),
  })
  .strict();

export type StdinSourceConfig = z.infer<typeof stdinSourceConfig>;

/** Lines of any readable byte stream as source batches (stdin, and tests). */
export class StreamSource implements Source {
  readonly #config: StdinSourceConfig;
  readonly #telemetry: Telemetry;
  readonly #input: () => Readable;
  #stopped = false;
  #stream: Readable | null = null;
  /** Resolved by stop(), so a read waiting on a quiet terminal or pipe ends at once. */
  #stopSignal: Promise<IteratorReturnResult<undefined>>;
  #signalStop!: () => void;

  constructor(config: StdinSourceConfig, telemetry: Telemetry, input: () => Readable) {
    this.#config = config;
    this.#telemetry = telemetry;
    this.#input = input;
    this.#stopSignal = new Promise((resolve) => {
      this.#signalStop = () => resolve({ done: true, value: undefined });
    });
  }

  async start(): Promise<void> {}

  async healthcheck(): Promise<Health> {
    return { ok: !this.#stopped };
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#signalStop();
    // Ending the iteration releases the stream; destroying process.stdin would close fd 0 for good.
    const stream = this.#stream as (Readable & { unref?: () => void }) | null;
    stream?.pause();
    stream?.unref?.();
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    const stream = this.#input();
    this.#stream = stream;
    const framer = new LineFramer(this.#config.max_line_bytes);
    const lines: FramedLine[] = [];
    const chunks = stream[Symbol.asyncIterator]();
    while (!this.#stopped) {
      const next = await Promise.race([chunks.next(), this.#stopSignal]);
      if (next.done || this.#stopped) break;
      const chunk = next.value as Buffer | string;
      framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, lines);
      if (lines.length) yield this.#batch(lines.splice(0));
    }
    if (!this.#stopped) framer.end(lines);
    if (lines.length) yield this.#batch(lines.splice(0));
  }

  #batch(lines: FramedLine[]): SourceBatch {
    const name = this.#config.name;
    const records = toInputRecords(lines, this.#config.format, (line) => ({
      kind: 'stream',
      name,
      sequence: line.offset,
    }));
    this.#telemetry.sourceRecords.inc({ source: `stdin:${this.#config.name}` }, records.length);
    return { records, ack: async () => {} };
  }
}

export const stdinSource: SourceDefinition<StdinSourceConfig> = {
  type: 'stdin',
  kind: 'source',
  summary: 'Reads newline-framed lines from standard input until EOF',
  config: stdinSourceConfig,
  example: { type: 'stdin' },
  create: (config, ctx) => new StreamSource(config, ctx.telemetry, () => process.stdin),
};
