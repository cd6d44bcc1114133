/**
 * One consumer-group member as its own process, for the rejoin test
 * (test/integration/kafka-rejoin.test.ts): consumes SOCSTREAM_TEST_MEMBER's topic through KafkaBus,
 * spends `workMs` on each batch (a busy member with a backlog), commits it, and prints one JSON
 * line per batch (the offset ranges it handed out, per partition) and per assignment change.
 * SIGKILL is the crash; SIGTERM leaves the group.
 */
import { KafkaBus } from '../../src/bus/kafka.ts';
import { KafkaSubscription } from '../../src/bus/kafka-subscription.ts';
import { kafkaSchema } from '../../src/config/schema.ts';

export interface MemberLine {
  member: string;
  subscribed?: true;
  assigned?: number[];
  /** Per partition, the [first, last] offset runs of one batch. */
  ranges?: Record<string, Array<[string, string]>>;
  skipped?: KafkaSubscription['skipped'];
  membership?: KafkaSubscription['membership'];
}

const settings = JSON.parse(process.env.SOCSTREAM_TEST_MEMBER ?? '{}') as {
  brokers: string;
  group: string;
  topic: string;
  workMs: number;
  name: string;
};
const bus = new KafkaBus(
  kafkaSchema.parse({
    brokers: [settings.brokers],
    client_id: `socstream-member-${settings.name}`,
    retries: 100,
  }),
);
const say = (line: Omit<MemberLine, 'member'>) =>
  process.stdout.write(`${JSON.stringify({ member: settings.name, ...line })}\n`);
const sub = await bus.subscribe({
  group: settings.group,
  topics: [settings.topic],
  from: 'earliest',
  maxBatchRecords: 200,
});
let last = '';
const watch = setInterval(() => {
  const now = JSON.stringify(
    sub
      .assignments()
      .map((a) => a.partition)
      .sort(),
  );
  if (now !== last) say({ assigned: JSON.parse(now) });
  last = now;
}, 100);
process.once('SIGTERM', () => {
  clearInterval(watch);
  void sub.close().then(() => bus.close());
});
say({ subscribed: true });
for await (const batch of sub) {
  await new Promise((resolve) => setTimeout(resolve, settings.workMs));
  await sub.commit(batch);
  const ranges: Record<string, Array<[bigint, bigint]>> = {};
  for (const r of batch.records) {
    ranges[r.partition] ??= [];
    const runs = ranges[r.partition];
    const run = runs.at(-1);
    if (run && run[1] + 1n === r.offset) run[1] = r.offset;
    else runs.push([r.offset, r.offset]);
  }
  say({
    ranges: Object.fromEntries(
      Object.entries(ranges).map(([p, runs]) => [
        p,
        runs.map(([a, b]): [string, string] => [String(a), String(b)]),
      ]),
    ),
    ...(sub instanceof KafkaSubscription ? { skipped: sub.skipped, membership: sub.membership } : {}),
  });
}
clearInterval(watch);
await bus.close();
