import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { uniqueName } from '../bus/contract.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: topics CLI on Kafka NOT run'
    : undefined;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const prefix = uniqueName('cli');
const names = ['network', 'auth', 'web', 'other', 'matches', 'alerts', 'dlq'].map((n) => `${prefix}.${n}`);

after(async () => {
  if (SKIP) return;
  const bus = new KafkaBus(kafkaSchema.parse({}));
  await bus.deleteTopics(names).catch(() => {});
  await bus.close();
});

it('`socstream topics create --config` creates the configured topics and `topics list` shows them', {
  skip: SKIP,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-topics-'));
  const file = join(dir, 'socstream.yaml');
  const [network, auth, web, other, matches, alerts, dlq] = names;
  writeFileSync(
    file,
    `bus:\n  type: kafka\n  kafka:\n    brokers: ["127.0.0.1:9092"]\ntopics:\n  partitions: 3\n  class_topics: true\n  network: ${network}\n  auth: ${auth}\n  web: ${web}\n  other: ${other}\n  matches: ${matches}\n  alerts: ${alerts}\n  dlq: ${dlq}\n`,
  );
  const create = spawnSync(process.execPath, [MAIN, 'topics', 'create', '--config', file], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(create.status, 0, create.stderr);
  const list = spawnSync(process.execPath, [MAIN, 'topics', 'list', '--config', file], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(list.status, 0, list.stderr);
  for (const name of names)
    assert.ok(list.stdout.includes(`${name}\t3\n`), `${name} with 3 partitions in:\n${list.stdout}`);
});
