/**
 * A three-node Kafka cluster of a test's own (scripts/kafka-cluster.ts with its own ports and
 * directory), so neither the shared broker on 9092 nor a developer's cluster on 19092 is touched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';

const SCRIPT = new URL('../../scripts/kafka-cluster.ts', import.meta.url).pathname;

export class TestCluster {
  /** Clients on port..port+2, controllers 100 above; clear of 9092, 19092 and PrivateBroker's range. */
  readonly port = 20_100 + 4 * Math.floor(Math.random() * 200);
  readonly home = mkdtempSync(join(tmpdir(), 'socstream-kafka-cluster-'));
  readonly brokers = [0, 1, 2].map((i) => `127.0.0.1:${this.port + i}`).join(',');
  readonly #env = {
    ...process.env,
    SOCSTREAM_KAFKA_CLUSTER_PORT: String(this.port),
    SOCSTREAM_KAFKA_CLUSTER_DIR: this.home,
  };

  /** Runs the script; asserts exit 0 unless `allowFail`; returns stdout and stderr. */
  run(args: string[], allowFail = false): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [SCRIPT, ...args], {
      encoding: 'utf8',
      env: this.#env,
      timeout: 300_000,
    });
    if (!allowFail)
      assert.equal(r.status, 0, `kafka-cluster ${args.join(' ')} (port ${this.port}): ${r.stderr}`);
    return r;
  }

  /** The same, without blocking the event loop (restarts run while the test measures things). */
  runAsync(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SCRIPT, ...args], { env: this.#env });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.once('exit', (code) =>
        code === 0
          ? resolve(err)
          : reject(new Error(`kafka-cluster ${args.join(' ')}: exit ${code}\n${err}`)),
      );
    });
  }

  start(): void {
    this.run(['start']);
  }

  kill(node: number): void {
    this.run(['kill', String(node)]);
  }

  restart(node: number): Promise<string> {
    return this.runAsync(['restart', String(node)]);
  }

  controller(): number {
    return Number(this.run(['controller']).stdout.trim());
  }

  dataDir(node: number): string {
    return join(this.home, `node${node}`, 'data');
  }

  /** Leader node id of each partition of each topic (-1: none), from a fresh metadata request. */
  async leaders(topics: string[]): Promise<Map<string, number[]>> {
    const admin = new Admin({
      clientId: 'socstream-test-cluster',
      bootstrapBrokers: this.brokers.split(','),
      connectTimeout: 2000,
      timeout: 5000,
      retries: 2,
    });
    try {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitions.map((p) => p.leader) ?? []]));
    } finally {
      await admin.close().catch(() => {});
    }
  }

  dispose(): void {
    spawnSync(process.execPath, [SCRIPT, 'stop'], { env: this.#env, timeout: 120_000 });
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Kafka's record batch v2 codec ids (attributes & 0x7), KIP-98 / the protocol's RecordBatch. */
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/**
 * The compression codec of every record batch in one partition's log segments on disk, read from
 * each batch header: baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8,
 * crc uint32, attributes int16 (bits 0-2 the codec).
 */
export function segmentCodecs(partitionDir: string): Set<string> {
  const codecs = new Set<string>();
  for (const file of readdirSync(partitionDir).filter((f) => f.endsWith('.log'))) {
    const bytes = readFileSync(join(partitionDir, file));
    let at = 0;
    while (at + 23 <= bytes.length) {
      const batchLength = bytes.readInt32BE(at + 8);
      if (batchLength <= 0) break; // preallocated tail
      assert.equal(bytes.readInt8(at + 16), 2, `magic 2 in ${file} at ${at}`);
      codecs.add(CODECS[bytes.readInt16BE(at + 21) & 0x7] ?? 'unknown');
      at += 12 + batchLength;
    }
  }
  return codecs;
}
