import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { DeadLetter, DeadLetterDefinition, Health } from '../core/component.ts';
import { d } from '../core/describe.ts';
import type { Reject } from '../core/envelope.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { deadLetterRecord } from './dlq-record.ts';

/**
 * `file` dead-letter output: one JSON object per line (NDJSON), appended. `write` hands the bytes
 * to the OS; `flush` fsyncs, so a pipeline that flushes before acking its sources never loses a
 * dead letter to a crash.
 */
export const dlqFileConfig = z
  .object({
    type: d(z.literal('file').optional(), 'file (dlq.type picks the output)'),
    path: d(z.string().min(1).default('.data/dlq.ndjson'), 'The NDJSON file, created with its folder'),
    max_bytes: d(z.number().int().positive().default(65_536), 'Raw bytes kept per rejected record'),
  })
  .strict();

export type DlqFileConfig = z.infer<typeof dlqFileConfig>;

class FileDeadLetter implements DeadLetter {
  readonly #config: DlqFileConfig;
  readonly #telemetry: Telemetry;
  #handle: FileHandle | null = null;
  #opening: Promise<FileHandle> | null = null;
  /** Writes are chained so lines never interleave and flush waits for all of them. */
  #tail: Promise<void> = Promise.resolve();

  constructor(config: DlqFileConfig, telemetry: Telemetry) {
    this.#config = config;
    this.#telemetry = telemetry;
  }

  async start(): Promise<void> {
    await this.#open();
  }

  #open(): Promise<FileHandle> {
    if (this.#handle) return Promise.resolve(this.#handle);
    this.#opening ??= (async () => {
      await mkdir(dirname(this.#config.path), { recursive: true });
      this.#handle = await open(this.#config.path, 'a');
      return this.#handle;
    })();
    return this.#opening;
  }

  async healthcheck(): Promise<Health> {
    return this.#handle ? { ok: true } : { ok: false, detail: `${this.#config.path} not open` };
  }

  write(rejects: Reject[]): Promise<void> {
    if (!rejects.length) return this.#tail;
    let text = '';
    for (const r of rejects) text += `${JSON.stringify(deadLetterRecord(r, this.#config.max_bytes))}\n`;
    const next = this.#tail.then(async () => {
      const fh = await this.#open();
      await fh.appendFile(text);
      this.#telemetry.dlqWrites.inc({ output: 'file' }, rejects.length);
    });
    // A failed write fails its caller; later writes still run.
    this.#tail = next.catch(() => {});
    return next;
  }

  async flush(): Promise<void> {
    await this.#tail;
    await this.#handle?.sync();
  }

  async stop(): Promise<void> {
    await this.flush();
    const fh = this.#handle;
    this.#handle = null;
    this.#opening = null;
    await fh?.close();
  }
}

export const dlqFile: DeadLetterDefinition<DlqFileConfig> = {
  type: 'file',
  kind: 'dlq',
  section: 'dlq',
  summary: 'Appends rejected records as NDJSON to a file, fsynced on flush',
  config: dlqFileConfig,
  example: { type: 'file', path: '.data/dlq.ndjson' },
  create: (config, ctx) => new FileDeadLetter(config, ctx.telemetry),
};
