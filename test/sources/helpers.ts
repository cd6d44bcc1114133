import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ComponentContext, SourceBatch } from '../../src/core/component.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';

export const FIXTURES = new URL('../fixtures/sources/', import.meta.url);

export function fixtureLines(name: string): string[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8').split('\n').filter(Boolean);
}

export function tempDir(prefix = 'socstream-src-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testContext(dataDir = tempDir()): ComponentContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return {
    logger: createLogger({ destination: sink, level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
    dataDir,
  };
}

/** Pulls batches until `done(all)` holds or the deadline passes; acks each batch unless told not to. */
export async function collect(
  iterator: AsyncIterator<SourceBatch>,
  done: (batches: SourceBatch[]) => boolean,
  options: { timeoutMs?: number; ack?: boolean } = {},
): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!done(out)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${out.length} batches`);
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), left);
      }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`timed out after ${out.length} batches`);
    if (next.done) break;
    out.push(next.value);
    if (options.ack !== false) await next.value.ack();
  }
  return out;
}

export const texts = (batches: SourceBatch[]): string[] =>
  batches.flatMap((b) => b.records.map((r) => r.text));
