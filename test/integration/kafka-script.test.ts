/**
 * scripts/kafka.ts against the running local broker: start is a no-op, status answers, and the
 * passthrough tools reach the broker without being told where it is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { uniqueName } from '../bus/contract.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1' ? 'SOCSTREAM_SKIP_KAFKA=1: kafka script NOT tested' : undefined;
const SCRIPT = new URL('../../scripts/kafka.ts', import.meta.url).pathname;

function kafka(args: string[], input?: string) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000, input });
}

it('rejects an unknown command with exit 2 and the usage', () => {
  const r = kafka(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command: frobnicate/);
  assert.match(r.stderr, /console-consumer/);
});

describe('scripts/kafka.ts on the local broker', { skip: SKIP }, () => {
  const topic = uniqueName('script');
  after(async () => {
    const bus = new KafkaBus(kafkaSchema.parse({}));
    await bus.deleteTopics([topic]).catch(() => {});
    await bus.close();
  });

  it('start is a no-op while a broker runs, and status says it answers', () => {
    const start = kafka(['start']);
    assert.equal(start.status, 0, start.stderr);
    assert.match(start.stderr, /already running|already listens/);
    const status = kafka(['status']);
    assert.equal(status.status, 0, status.stderr);
  });

  it('topics, console-producer and console-consumer reach 127.0.0.1:9092 by default', () => {
    const create = kafka([
      'topics',
      '--create',
      '--topic',
      topic,
      '--partitions',
      '2',
      '--replication-factor',
      '1',
    ]);
    assert.equal(create.status, 0, create.stderr);
    const list = kafka(['topics', '--list']);
    assert.equal(list.status, 0, list.stderr);
    assert.ok(list.stdout.split('\n').includes(topic));
    const produce = kafka(['console-producer', '--topic', topic], 'first line\nsecond line\n');
    assert.equal(produce.status, 0, produce.stderr);
    const consume = kafka([
      'console-consumer',
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '2',
      '--timeout-ms',
      '60000',
    ]);
    assert.equal(consume.status, 0, consume.stderr);
    assert.deepEqual(consume.stdout.trim().split('\n').sort(), ['first line', 'second line']);
  });
});
