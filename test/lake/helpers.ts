/** Test helper: a lake written by the real LakeWriter. */
import { pino } from 'pino';
import type { Envelope } from '../../src/core/envelope.ts';
import { LakeWriter } from '../../src/sinks/parquet/writer.ts';

/** Writes each batch as its own flush (one file per hour partition per batch). */
export async function writeLake(dir: string, batches: Envelope[][]): Promise<void> {
  const writer = new LakeWriter({
    dir,
    flushBufferBytes: 0,
    flushEventCount: 0,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  await writer.start();
  for (const batch of batches) {
    const done = writer.write(batch);
    await writer.flush();
    await done;
  }
  await writer.stop();
}
