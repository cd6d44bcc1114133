/**
 * The store role as its own process, for the crash test (test/integration/lake-store.test.ts).
 * Settings come as JSON in SOCSTREAM_TEST_STORE; SIGTERM stops it cleanly, SIGKILL is the crash.
 */
import { pino } from 'pino';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { kafkaSchema, lakeSchema } from '../../src/config/schema.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { createStoreRole } from '../../src/roles/store.ts';
import { lakeSinkDefinition } from '../../src/sinks/parquet/sink.ts';

const settings = JSON.parse(process.env.SOCSTREAM_TEST_STORE ?? '{}') as {
  group: string;
  topics: string[];
  lake: Record<string, unknown>;
  maxBatchRecords?: number;
};
const logger = pino({ level: 'warn' }, pino.destination(2));
const telemetry = createTelemetry({ defaultMetrics: false });
const bus = new KafkaBus(
  kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'socstream-store-child' }),
);
const lake = lakeSinkDefinition.create(lakeSchema.parse(settings.lake), { logger, telemetry, dataDir: '.' });
const role = createStoreRole({
  bus,
  group: settings.group,
  eventTopics: settings.topics,
  lake,
  ctx: { logger, telemetry },
  maxBatchRecords: settings.maxBatchRecords,
});
process.once('SIGTERM', () => {
  void role.stop().then(() => bus.close());
});
await role.run();
await bus.close();
