import type {
  AnyDefinition,
  ComponentContext,
  ComponentKind,
  DeadLetterDefinition,
  SinkDefinition,
  SourceDefinition,
  TransformDefinition,
} from './core/component.ts';
import { ConfigError } from './core/errors.ts';
import { ownConfig, Registry } from './core/registry.ts';
import { detectTransform } from './detect/detect-transform.ts';
import { enrichTransform } from './enrich/enrich-transform.ts';
import { normalizeTransform } from './normalize/normalize-transform.ts';
import { routeTransform } from './normalize/route-transform.ts';
import { type ParserComponentDefinition, parserComponent } from './parsers/parser-component.ts';
import { PARSERS as PARSER_DEFINITIONS } from './parsers/registry.ts';
import { consoleAlertOutput } from './sinks/alert-console.ts';
import { kafkaAlertOutput } from './sinks/alert-kafka.ts';
import type { AlertOutputDefinition } from './sinks/alert-output.ts';
import type { AlertStore, AlertStoreContext, AlertStoreDefinition } from './sinks/alert-store.ts';
import { postgresAlertStore } from './sinks/alert-store-postgres.ts';
import { sqliteAlertStore } from './sinks/alert-store-sqlite.ts';
import { webhookAlertOutput } from './sinks/alert-webhook.ts';
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
 * Every component, listed explicitly (no side-effect registration), one registry per kind in
 * data-path order. Adding a component is adding its file (its schema beside it, with a docs string
 * per key) and one line here; the registry rejects duplicate types. src/config/schema.ts assembles
 * socstream.yaml's schema from these definitions, docs/config.md is generated from that, and
 * test/components.test.ts runs every definition through the same conformance checks.
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
/** The formats (src/parsers/registry.ts keeps their order: format detection tries them in it). */
export const PARSERS = new Registry<ParserComponentDefinition>(
  'parser',
  PARSER_DEFINITIONS.map(parserComponent),
);
/** Between parsing and the outputs, in the order an event meets them. */
export const TRANSFORMS = new Registry<TransformDefinition>('transform', [
  normalizeTransform,
  enrichTransform,
  routeTransform,
  detectTransform,
]);
export const SINKS = new Registry<SinkDefinition>('sink', [lakeSinkDefinition]);
/** Every output `alerts:` asks for gets the alerts (a fan-out), in this order. */
export const ALERT_OUTPUTS = new Registry<AlertOutputDefinition>('alert_output', [
  consoleAlertOutput,
  kafkaAlertOutput,
  webhookAlertOutput,
]);
/** `alert_store.type` picks one; the first is the default. */
export const ALERT_STORES = new Registry<AlertStoreDefinition>('alert_store', [
  sqliteAlertStore,
  postgresAlertStore,
]);
/** `dlq.type` picks one; the first is the default. */
export const DEAD_LETTERS = new Registry<DeadLetterDefinition>('dlq', [dlqFile, dlqKafka]);

/** Every registry by kind. */
export const REGISTRIES: Readonly<Record<ComponentKind, Registry<AnyDefinition>>> = {
  source: SOURCES,
  parser: PARSERS,
  transform: TRANSFORMS,
  sink: SINKS,
  alert_output: ALERT_OUTPUTS,
  alert_store: ALERT_STORES,
  dlq: DEAD_LETTERS,
};

export interface AlertStoreOptions {
  /** PostgreSQL schema (tests use a random one); default `public`. */
  schema?: string;
}

/**
 * The store `alert_store.type` names (ALERT_STORES), given its own keys of the section; `create`
 * does no I/O (call start()). A bare SQLite file name is placed in dataDir (sqlitePath).
 */
export function createAlertStore(
  section: { type: string; [key: string]: unknown },
  dataDir: string,
  options: AlertStoreOptions = {},
  ctx: Partial<Pick<ComponentContext, 'logger' | 'telemetry'>> = {},
): AlertStore {
  const def = ALERT_STORES.get(section.type);
  if (!def)
    throw new ConfigError(
      `alert_store.type: unknown alert store "${section.type}". Fix: use one of: ${ALERT_STORES.types().join(', ')}`,
    );
  // The stores read only dataDir (and the test schema) of the context.
  const context = { ...ctx, dataDir, ...(options.schema ? { postgresSchema: options.schema } : {}) };
  return def.create(def.config.parse(ownConfig(def.config, section)), context as AlertStoreContext);
}
