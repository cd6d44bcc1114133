/**
 * The ingest role pipelines source batches (src/roles/ingest.ts): it reads and publishes the next
 * batches while earlier publishes wait for their acks, and acks the source strictly in order, each
 * batch only after the bus accepted it. Lines: test/fixtures/parsers/sshd/auth.in.log.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Bus, BusRecord, ConsumedRecord } from '../../src/core/bus.ts';
import type { Source, SourceBatch } from '../../src/core/component.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { createIngestRole } from '../../src/roles/ingest.ts';

const LINES = readFileSync(new URL('../fixtures/parsers/sshd/auth.in.log', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

test('the ingest role publishes ahead of acks and acks its source in order, each batch after the bus accepted it', async () => {
  const acks: number[] = [];
  const batches: SourceBatch[] = [0, 1, 2, 3].map((b) => ({
    records: LINES.slice(2 * b, 2 * b + 2).map((text, i) => ({
      text,
      byteLength: Buffer.byteLength(text),
      position: { kind: 'file' as const, path: '/var/log/auth.log', fileId: '1:2', offset: 2 * b + i },
      receivedAt: Date.now(),
    })),
    ack: async () => void acks.push(b),
  }));
  const source = {
    start: async () => {},
    stop: async () => {},
    flush: async () => {},
    healthcheck: async () => ({ ok: true }),
    async *batches() {
      yield* batches;
    },
  } as unknown as Source;
  const held: Array<{ records: BusRecord[]; ack: () => void }> = [];
  const bus = {
    publish: (_topic: string, records: BusRecord[]) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      held.push({ records, ack: resolve });
      return promise;
    },
  } as unknown as Bus;
  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const role = createIngestRole({
    bus,
    sources: [{ name: 'auth', topic: 'raw.auth', source }],
    ctx: { logger, telemetry: createTelemetry({ defaultMetrics: false }) },
  });
  const run = role.run();
  const deadline = Date.now() + 5000;
  while (held.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(held.length, 4, 'all four batches published before any ack');
  assert.deepEqual(
    held.map((h) => h.records.map((r) => new TextDecoder().decode(r.value))),
    [0, 1, 2, 3].map((b) => LINES.slice(2 * b, 2 * b + 2)),
    'published in source order',
  );
  held[3].ack();
  held[1].ack();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(acks, [], 'no ack while the first batch is not accepted');
  held[0].ack();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(acks, [0, 1], 'acks stop at the first batch not accepted yet');
  held[2].ack();
  await run;
  assert.deepEqual(acks, [0, 1, 2, 3]);
});

for (const releaseDelivered of [false, true])
  test(`on the in-process bus a file batch is acked (its checkpoint moves) only once its consumer committed it${releaseDelivered ? ', also when the bus lets records go once delivered' : ''}`, async () => {
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { MemoryBus } = await import('../../src/bus/memory.ts');
    const { fileSource } = await import('../../src/sources/file.ts');
    const dir = mkdtempSync(join(tmpdir(), 'socstream-ingest-'));
    const path = join(dir, 'auth.log');
    const text = `${LINES.join('\n')}\n`;
    writeFileSync(path, text);
    const logger = createLogger({
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
      level: 'silent',
    });
    const telemetry = createTelemetry({ defaultMetrics: false });
    const bus = new MemoryBus({ releaseDelivered });
    const consumer = await bus.subscribe({ group: 'process', topics: ['raw.auth'] });
    const config = fileSource.config.parse({
      type: 'file',
      paths: [path],
      checkpoint_dir: dir,
      name: 'auth',
    });
    const source = fileSource.create(config, { logger, telemetry, dataDir: dir });
    const checkpointFile = join(dir, 'file-auth.json');
    const checkpointed = (): number => {
      if (!existsSync(checkpointFile)) return 0;
      const files = JSON.parse(readFileSync(checkpointFile, 'utf8')).files as Record<
        string,
        { offset: number }
      >;
      return Math.max(0, ...Object.values(files).map((f) => f.offset));
    };
    const role = createIngestRole({
      bus,
      sources: [{ name: 'auth', topic: 'raw.auth', source }],
      ctx: { logger, telemetry },
    });
    void role.run();
    const read: ConsumedRecord[] = [];
    const it = consumer[Symbol.asyncIterator]();
    while (read.length < LINES.length) {
      const next = await it.next();
      if (next.done) break;
      read.push(...next.value.records);
    }
    assert.equal(read.length, LINES.length, 'every line reached the consumer');
    await role.settle(300);
    assert.equal(checkpointed(), 0, 'nothing checkpointed while the consumer has not committed');
    await consumer.commitOffsets([
      { topic: 'raw.auth', partition: read[0].partition, offset: (read.at(-1)?.offset ?? 0n) + 1n },
    ]);
    await role.stop();
    await role.settle(2000);
    assert.equal(
      checkpointed(),
      Buffer.byteLength(text),
      'the checkpoint reached the end of the file once committed',
    );
    await bus.close();
  });
