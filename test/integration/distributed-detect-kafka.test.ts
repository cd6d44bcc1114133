/**
 * Distributed detection on the real broker (issue 5): the process role publishes match messages
 * keyed by rule + group key to a 4-partition matches topic; a correlate consumer group of two
 * members (two Kafka consumers) raises exactly the alerts one in-process detector raises.
 */
import { after, test } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { uniqueName } from '../bus/contract.ts';
import {
  assertScenario,
  assertTakeover,
  distributedDetectScenario,
  takeoverScenario,
} from '../helpers/distributed-detect.ts';

const SKIP =
  process.env.SOCSTREAM_SKIP_KAFKA === '1'
    ? 'SOCSTREAM_SKIP_KAFKA=1: distributed detection on Kafka NOT run (no broker on 127.0.0.1:9092)'
    : undefined;
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);

const config = kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-test' });
const prefix = `${uniqueName('dd')}.`;
let bus: KafkaBus | undefined;

after(async () => {
  if (!bus) return;
  const topics = (await bus.listTopics()).map((t) => t.name).filter((n) => n.startsWith(prefix));
  await bus.deleteTopics(topics).catch(() => {});
  await bus.close();
});

test('two correlate members on Kafka over re-keyed matches raise exactly the in-process alerts', {
  skip: SKIP,
  timeout: 180_000,
}, async () => {
  bus = new KafkaBus(config);
  assertScenario(await distributedDetectScenario(bus, { prefix, waitMs: 90_000 }));
});

test('a correlate member stopped mid-window on Kafka: the member taking over rebuilds its windows from the partition and alerts once, with the uninterrupted id', {
  skip: SKIP,
  timeout: 180_000,
}, async () => {
  bus ??= new KafkaBus(config);
  assertTakeover(await takeoverScenario(bus, { prefix, waitMs: 90_000 }));
});
