/**
 * Reconnects: a second, private broker (scripts/kafka.ts with its own port and directory, so the
 * shared one is never touched) is stopped and started again under a producer and a consumer.
 * Publishing while it is down waits through the retries with backoff and lands once it is back;
 * the consumer carries on from where it was.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import type { ConsumedRecord } from '../../src/core/bus.ts';
import { eventually, keyedRecords, OrderChecker, uniqueName } from '../bus/contract.ts';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: Kafka reconnect test NOT run'
    : has('java') && has('mvn')
      ? undefined
      : 'java/mvn missing: Kafka reconnect test NOT run';
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/kafka.ts', import.meta.url).pathname;
const SHARED_LIB = new URL('../../.data/kafka/lib', import.meta.url).pathname;
const PORT = 19_200 + 2 * Math.floor(Math.random() * 200);
let home = '';
let env: NodeJS.ProcessEnv = {};

/** Asynchronous, so the clients keep running (and retrying) while the broker stops and starts. */
async function broker(command: 'start' | 'stop'): Promise<void> {
  await run(process.execPath, [SCRIPT, command], { env, timeout: 240_000 });
}

describe('KafkaBus across a broker restart', { skip: SKIP }, () => {
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'socstream-kafka-reconnect-'));
    env = { ...process.env, SOCSTREAM_KAFKA_PORT: String(PORT), SOCSTREAM_KAFKA_DIR: join(home, 'kafka') };
    // Reuse the jars of the shared broker when they are there (saves copying ~100 MB).
    mkdirSync(join(home, 'kafka'), { recursive: true });
    if (existsSync(join(SHARED_LIB, '.pom.sha256'))) symlinkSync(SHARED_LIB, join(home, 'kafka', 'lib'));
    await broker('start');
  });
  after(() => {
    spawnSync(process.execPath, [SCRIPT, 'stop'], { env, timeout: 60_000 });
    rmSync(home, { recursive: true, force: true });
  });

  it('publishes through an outage once the broker is back, and the group keeps consuming', async () => {
    const bus = new KafkaBus(
      kafkaSchema.parse({ brokers: [`127.0.0.1:${PORT}`], retries: 60, connect_timeout_ms: 5000 }),
    );
    const topic = uniqueName('reconnect');
    await bus.createTopics([{ name: topic, partitions: 3 }]);
    await bus.publish(topic, keyedRecords(300, 30));

    const sub = await bus.subscribe({ group: uniqueName('g-reconnect'), topics: [topic], from: 'earliest' });
    const order = new OrderChecker();
    let readError: unknown = null;
    const reading = (async () => {
      for await (const batch of sub) {
        for (const r of batch.records as ConsumedRecord[]) order.accept(r.value, `p${r.partition}`);
        await sub.commit(batch);
      }
    })().catch((error: unknown) => {
      readError = error;
    });
    await eventually(`300 before the outage (have ${order.seen.size})`, () => order.seen.size >= 300, 60_000);

    await broker('stop');
    const publishing = bus.publish(topic, keyedRecords(300, 30, 10));
    let published = false;
    void publishing.then(() => {
      published = true;
    });
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(published, false, 'nothing is acknowledged while the broker is down');
    await broker('start');
    await publishing;
    await eventually(
      `600 after the restart (have ${order.seen.size})`,
      () => readError !== null || order.seen.size >= 600,
      180_000,
    );
    assert.equal(readError, null);
    assert.equal(order.seen.size, 600);
    assert.deepEqual(order.violations, []);
    await sub.close();
    await reading;
    await bus.close();
  });

  it('a publish the broker cannot take within bus.kafka.delivery_timeout_ms fails with SOC_KAFKA_DELIVERY', async () => {
    const bus = new KafkaBus(
      kafkaSchema.parse({
        brokers: [`127.0.0.1:${PORT}`],
        retries: 60,
        connect_timeout_ms: 5000,
        delivery_timeout_ms: 4000,
      }),
    );
    const topic = uniqueName('delivery-timeout');
    await bus.createTopics([{ name: topic, partitions: 2 }]);
    await bus.publish(topic, keyedRecords(10, 2));
    await broker('stop');
    try {
      const started = Date.now();
      await assert.rejects(
        bus.publish(topic, keyedRecords(10, 2, 10)),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'SOC_KAFKA_DELIVERY', error.message);
          assert.match(error.message, /delivery_timeout_ms/);
          return true;
        },
      );
      const waited = Date.now() - started;
      assert.ok(waited >= 3000, `waited for the cluster first (${waited} ms)`);
    } finally {
      await bus.close();
    }
  });
});
