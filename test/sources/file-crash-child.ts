/**
 * Child process for file-crash.test.ts: runs the file source with a trivial durable writer that
 * appends `{id, text}` to an output file, fsyncs, and only then acks. The parent SIGKILLs it.
 * argv: <input path> <data dir> <output file>
 */
import { fsyncSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { eventId } from '../../src/core/ids.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { fileSource } from '../../src/sources/file.ts';

const [input, dataDir, output] = process.argv.slice(2);
const config = fileSource.config.parse({
  type: 'file',
  name: 'crash',
  paths: [input],
  poll_interval_ms: 20,
  rotate_grace_ms: 100,
  read_chunk_bytes: 4096,
});
const logger = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });
const src = fileSource.create(config, {
  logger,
  telemetry: createTelemetry({ defaultMetrics: false }),
  dataDir,
});
const out = openSync(output, 'a');
for await (const batch of src.batches()) {
  let text = '';
  for (const r of batch.records) text += `${JSON.stringify({ id: eventId(r.position), text: r.text })}\n`;
  writeSync(out, text);
  fsyncSync(out);
  await batch.ack();
}
