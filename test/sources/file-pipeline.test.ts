/**
 * The file source in front of the real processor (parse → normalize → enrich) and the file DLQ:
 * the file name gives Zeek JSON lines without `_path` their log type, and a 2 MB line and binary
 * garbage end up as dead letters with reason and position while the good lines still flow.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { enrichSchema } from '../../src/config/schema.ts';
import type { Envelope, Reject } from '../../src/core/envelope.ts';
import { createEnricher } from '../../src/enrich/enricher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createProcessor } from '../../src/pipeline/processor.ts';
import { dlqFile } from '../../src/sinks/dlq-file.ts';
import { fileSource } from '../../src/sources/file.ts';
import { fixtureLines, tempDir, testContext } from './helpers.ts';

const sshd = fixtureLines('sshd.log');
const dnsJson = fixtureLines('dns.json').map((l) => {
  const { _path, _write_ts, ...rest } = JSON.parse(l);
  return JSON.stringify(rest);
});

test('file source → processor → DLQ: file-name log types, bad lines dead-lettered, good lines through', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'dns.log'), `${dnsJson.join('\n')}\n`);
  const auth = join(dir, 'auth.log');
  writeFileSync(auth, `${sshd[0]}\n`);
  appendFileSync(auth, Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 0x41), Buffer.from('\n')]));
  appendFileSync(auth, Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
  appendFileSync(auth, `${sshd[1]}\n`);

  const ctx = testContext(dir);
  const src = fileSource.create(
    fileSource.config.parse({ type: 'file', name: 'p', paths: [join(dir, '*.log')], max_line_bytes: 65_536 }),
    ctx,
  );
  t.after(() => src.stop());
  const dlqPath = join(dir, 'dlq.ndjson');
  const dlq = dlqFile.create(dlqFile.config.parse({ type: 'file', path: dlqPath, max_bytes: 1024 }), ctx);
  t.after(() => dlq.stop());
  const processor = createProcessor({
    normalizer: createNormalizer(),
    enricher: createEnricher(enrichSchema.parse({}), { logger: ctx.logger }),
  });
  const envelopes: Envelope[] = [];
  const rejects: Reject[] = [];
  // The pipeline's order per batch: process, write the dead letters and flush them, then ack.
  const deadline = Date.now() + 15_000;
  for await (const batch of src.batches()) {
    const out = { envelopes: [] as Envelope[], rejects: [] as Reject[], skipped: 0 };
    for (const record of batch.records)
      processor.process(record, record.position.kind === 'file' ? record.position.path : '', out);
    await dlq.write(out.rejects);
    await dlq.flush();
    await batch.ack();
    envelopes.push(...out.envelopes);
    rejects.push(...out.rejects);
    if (envelopes.length + rejects.length >= dnsJson.length + 4 || Date.now() > deadline) break;
  }

  const dns = envelopes.filter((e) => e.source === 'zeek');
  assert.equal(dns.length, dnsJson.length);
  assert.ok(
    dns.every((e) => e.log_type === 'dns'),
    'log type from the file name',
  );
  assert.equal(dns[0].raw.query, JSON.parse(dnsJson[0]).query);
  const sshdEvents = envelopes.filter((e) => e.source === 'sshd');
  assert.equal(sshdEvents.length, 2, 'both good sshd lines, before and after the bad ones');

  const letters = readFileSync(dlqPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(letters.length, rejects.length);
  const long = letters.find((l) => l.reason === 'line_too_long');
  assert.ok(long, 'the 2 MB line is a dead letter');
  assert.deepEqual(
    [long.original_length, long.truncated, long.text.length, long.position.offset],
    [2 * 1024 * 1024, true, 1024, Buffer.byteLength(sshd[0]) + 1],
  );
  const binary = letters.find(
    (l) => l.position.offset === Buffer.byteLength(sshd[0]) + 1 + 2 * 1024 * 1024 + 1,
  );
  assert.ok(binary, 'the binary line is a dead letter');
  assert.equal(binary.original_length, 3);
  assert.equal(binary.text, '\uFFFD\uFFFD\u0000');
});
