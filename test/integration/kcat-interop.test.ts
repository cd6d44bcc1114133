/**
 * Interoperability with an independent client: Debian's kcat (librdkafka). What socstream
 * publishes (lz4, idempotent) kcat reads byte for byte, on the partition Java's partitioner picks;
 * what kcat produces (lz4, murmur2_random = Java's partitioner) socstream consumes byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { partitionForKey } from '../../src/bus/partitioner.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import type { ConsumedRecord } from '../../src/core/bus.ts';
import { eventually, uniqueName } from '../bus/contract.ts';

const BROKER = '127.0.0.1:9092';
const hasKcat = spawnSync('sh', ['-c', 'command -v kcat'], { stdio: 'ignore' }).status === 0;
const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: kcat interop NOT run'
    : hasKcat
      ? undefined
      : 'kcat is not installed (apt-get install -y kcat): kcat interop NOT run';
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

/** Values that break naive text handling: NUL, 0xff, newlines, tabs, multi-byte UTF-8, empty. */
const VALUES: Buffer[] = [
  // (kcat -P skips an empty file, so no empty value here)
  Buffer.from('{"src_ip":"10.0.0.1","msg":"plain json"}'),
  Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x09, 0x20, 0x7f, 0x80]),
  Buffer.from('line one\nline two\twith tab and é€😀'),
  Buffer.alloc(70_000, 'x'),
];
const KEYS = ['10.0.0.1', 'alice@example.org', 'clé-€', 'host-42'];

interface KcatMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: string;
}

/** Parses `-f '%p %o %K %S %h\x01%k%s\n'` output using the printed lengths, so any byte is safe. */
function parseKcat(out: Buffer): KcatMessage[] {
  const messages: KcatMessage[] = [];
  let at = 0;
  while (at < out.length) {
    const sep = out.indexOf(0x01, at);
    const head = out.subarray(at, sep).toString('utf8');
    const [p, o, k, s, ...h] = head.split(' ');
    const keyLength = Number(k);
    const valueLength = Number(s);
    let cursor = sep + 1;
    const key = keyLength < 0 ? null : out.subarray(cursor, cursor + keyLength);
    cursor += Math.max(0, keyLength);
    const value = out.subarray(cursor, cursor + Math.max(0, valueLength));
    cursor += Math.max(0, valueLength);
    assert.equal(out[cursor], 0x0a, 'record terminator');
    messages.push({ partition: Number(p), offset: Number(o), key, value, headers: h.join(' ') });
    at = cursor + 1;
  }
  return messages;
}

describe('kcat interoperability', { skip: SKIP }, () => {
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: [BROKER], client_id: 'socstream-interop' }));
  const topics: string[] = [];
  after(async () => {
    await bus.deleteTopics(topics).catch(() => {});
    await bus.close();
  });

  it('kcat reads byte for byte what socstream publishes (key, value, headers), on the Java partitioner partition', async () => {
    const topic = uniqueName('interop-out');
    topics.push(topic);
    await bus.createTopics([{ name: topic, partitions: 6 }]);
    await bus.publish(
      topic,
      VALUES.map((value, i) => ({ key: KEYS[i], value, headers: { seq: String(i) } })),
    );
    const r = spawnSync(
      'kcat',
      ['-C', '-q', '-e', '-b', BROKER, '-t', topic, '-o', 'beginning', '-f', '%p %o %K %S %h\x01%k%s\n'],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.equal(r.status, 0, r.stderr?.toString());
    const got = parseKcat(r.stdout);
    assert.equal(got.length, VALUES.length);
    for (let i = 0; i < VALUES.length; i++) {
      const m = got.find((g) => g.headers === `seq=${i}`);
      assert.ok(m, `record ${i} read by kcat`);
      assert.deepEqual(m.key, Buffer.from(KEYS[i], 'utf8'), `key ${i}`);
      assert.ok(
        m.value.equals(VALUES[i]),
        `value ${i} is byte-identical (${m.value.length} vs ${VALUES[i].length} bytes)`,
      );
      assert.equal(m.partition, partitionForKey(KEYS[i], 6), `key ${KEYS[i]} on Java's partition`);
    }
  });

  it('socstream consumes byte for byte what kcat produces (lz4, Java-compatible murmur2 partitioner)', async () => {
    const topic = uniqueName('interop-in');
    topics.push(topic);
    await bus.createTopics([{ name: topic, partitions: 6 }]);
    const dir = mkdtempSync(join(tmpdir(), 'socstream-kcat-'));
    for (let i = 0; i < VALUES.length; i++) {
      const file = join(dir, `v${i}`);
      writeFileSync(file, VALUES[i]);
      // One file = one message, its bytes untouched.
      const r = spawnSync(
        'kcat',
        [
          '-P',
          '-b',
          BROKER,
          '-t',
          topic,
          '-k',
          KEYS[i],
          '-H',
          `seq=${i}`,
          '-X',
          'compression.codec=lz4',
          '-X',
          'topic.partitioner=murmur2_random',
          file,
        ],
        { timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr?.toString());
    }
    const sub = await bus.subscribe({ group: uniqueName('g-interop'), topics: [topic], from: 'earliest' });
    const received: ConsumedRecord[] = [];
    let readError: Error | null = null;
    const reading = (async () => {
      for await (const batch of sub) {
        received.push(...batch.records);
        await sub.commit(batch);
      }
    })().catch((error: Error) => {
      readError = error;
    });
    await eventually(
      `${VALUES.length} records from kcat (have ${received.length})`,
      () => readError !== null || received.length >= VALUES.length,
      60_000,
    );
    await sub.close();
    await reading;
    assert.equal(readError, null);
    assert.equal(received.length, VALUES.length);
    for (let i = 0; i < VALUES.length; i++) {
      const r = received.find((x) => x.headers?.seq === String(i));
      assert.ok(r, `record ${i} consumed`);
      assert.equal(r.key, KEYS[i]);
      assert.ok(Buffer.from(r.value).equals(VALUES[i]), `value ${i} is byte-identical`);
      assert.equal(
        r.partition,
        partitionForKey(KEYS[i], 6),
        `kcat's murmur2_random agrees with ours for ${KEYS[i]}`,
      );
    }
  });
});
