import type { Command } from 'commander';
import { KafkaBus } from '../bus/kafka.ts';
import { loadConfig } from '../config/loader.ts';
import type { Config } from '../config/schema.ts';
import type { TopicSpec } from '../core/bus.ts';
import { ingestTopics } from '../pipeline/build.ts';
import { topicPlan } from '../pipeline/topics.ts';
import { action } from './run-action.ts';

/**
 * `socstream topics create | list`: the Kafka topics of the distributed mode (docs/kafka.md).
 * Always talks to the brokers of bus.kafka, whatever bus.type says: this is how a Kafka cluster
 * is prepared before the roles start.
 */
interface TopicsFlags {
  config?: string;
  brokers?: string;
}

/** The topics socstream writes and reads: the pipeline's one topic plan (src/pipeline/topics.ts). */
export function configuredTopics(config: Config, file = '(config)'): TopicSpec[] {
  return topicPlan(config, ingestTopics(config, file)).specs;
}

function kafkaBus(flags: TopicsFlags): { bus: KafkaBus; config: Config } {
  const config = loadConfig(flags.config);
  const kafka = flags.brokers ? { ...config.bus.kafka, brokers: flags.brokers.split(',') } : config.bus.kafka;
  return { bus: new KafkaBus(kafka), config };
}

async function withBus(
  flags: TopicsFlags,
  work: (bus: KafkaBus, config: Config) => Promise<void>,
): Promise<number> {
  const { bus, config } = kafkaBus(flags);
  try {
    await work(bus, config);
    return 0;
  } finally {
    await bus.close();
  }
}

export function register(program: Command): void {
  const topics = program.command('topics').description('create or list the Kafka topics socstream uses');
  topics
    .command('create')
    .description(
      'create the configured topics (topics.*) with topics.partitions partitions; existing ones are kept',
    )
    .option('-c, --config <file>', 'socstream.yaml')
    .option('--brokers <list>', 'bootstrap servers, comma-separated (default: bus.kafka.brokers)')
    .action(
      action((flags: TopicsFlags) =>
        withBus(flags, async (bus, config) => {
          const wanted = configuredTopics(config, flags.config);
          await bus.createTopics(wanted);
          const have = new Map((await bus.listTopics()).map((t) => [t.name, t.partitions]));
          for (const t of wanted) process.stdout.write(`${t.name}\t${have.get(t.name) ?? '?'}\n`);
        }),
      ),
    );
  topics
    .command('list')
    .description('list the topics on the brokers with their partition counts')
    .option('-c, --config <file>', 'socstream.yaml')
    .option('--brokers <list>', 'bootstrap servers, comma-separated (default: bus.kafka.brokers)')
    .action(
      action((flags: TopicsFlags) =>
        withBus(flags, async (bus) => {
          for (const t of await bus.listTopics()) process.stdout.write(`${t.name}\t${t.partitions}\n`);
        }),
      ),
    );
}
