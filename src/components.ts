import type { DeadLetterDefinition, SinkDefinition, SourceDefinition } from './core/component.ts';
import { Registry } from './core/registry.ts';
import { dlqFile } from './sinks/dlq-file.ts';
import { dlqKafka } from './sinks/dlq-kafka.ts';
import { lakeSinkDefinition } from './sinks/parquet/sink.ts';
import { fileSource } from './sources/file.ts';
import { generatorSource } from './sources/generator.ts';
import { httpSource } from './sources/http.ts';
import { kafkaSource } from './sources/kafka.ts';
import { stdinSource } from './sources/stdin.ts';
import { syslogTcpSource, syslogUdpSource } from './sources/syslog.ts';

/**
 * Every component, listed explicitly (no side-effect registration). Adding a source or sink is
 * adding its file and one line here; the registry rejects duplicate types.
 */
export const SOURCES = new Registry<SourceDefinition>('source', [
  fileSource,
  stdinSource,
  syslogUdpSource,
  syslogTcpSource,
  httpSource,
  kafkaSource,
  generatorSource,
]);
export const SINKS = new Registry<SinkDefinition>('sink', [lakeSinkDefinition]);
export const DEAD_LETTERS = new Registry<DeadLetterDefinition>('dlq', [dlqFile, dlqKafka]);
