import type { z } from 'zod';
import type { Bus } from './bus.ts';
import type { Envelope, InputRecord, Reject } from './envelope.ts';
import type { Logger } from './logger.ts';
import type { Telemetry } from './telemetry.ts';

/** The pipeline's topics that components publish to or route by (`topics:` in socstream.yaml). */
export interface TopicNames {
  network: string;
  auth: string;
  web: string;
  other: string;
  alerts: string;
  dlq: string;
}

/** What every component gets from the runtime. `create()` must not do I/O with it. */
export interface ComponentContext {
  logger: Logger;
  telemetry: Telemetry;
  /** Root for state (checkpoints, lake, sqlite) unless a component's config says otherwise. */
  dataDir: string;
  /** The bus, for components that talk to topics (kafka source, alerts output). */
  bus?: Bus;
  /** Topic names (`topics:`); components fall back to the schema's defaults when absent. */
  topics?: Readonly<TopicNames>;
  /** Where console outputs print (default process.stdout). */
  console?: NodeJS.WritableStream;
}

export interface Health {
  ok: boolean;
  detail?: string;
}

export interface Lifecycle {
  start(): Promise<void>;
  healthcheck(): Promise<Health>;
  /** Writes out anything buffered; resolves when it is durable. */
  flush(): Promise<void>;
  /** Stops and releases every handle (timers, sockets, files). */
  stop(): Promise<void>;
}

/**
 * A batch handed on by a source. `ack()` is called once everything derived from it is durable;
 * only then does the source advance its checkpoint (file offset, Kafka commit). `ack` must work
 * detached from its batch (the ingest role keeps only the function, not the records, until then).
 */
export interface SourceBatch {
  records: InputRecord[];
  ack(): Promise<void>;
}

export interface Source extends Lifecycle {
  /** Yields batches until stopped. */
  batches(): AsyncIterable<SourceBatch>;
}

export interface Sink extends Lifecycle {
  /** Resolves once the batch is durably written (or durably buffered by a sink that says so). */
  write(batch: Envelope[]): Promise<void>;
}

/** The dead-letter output. */
export interface DeadLetter extends Lifecycle {
  write(rejects: Reject[]): Promise<void>;
}

/**
 * The kinds of component, in data-path order. Each kind has one registry in src/components.ts;
 * the config schema (src/config/schema.ts) and docs/config.md are assembled from them.
 */
export const COMPONENT_KINDS = [
  'source',
  'parser',
  'transform',
  'sink',
  'alert_output',
  'alert_store',
  'dlq',
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export interface ComponentDefinition<
  Kind extends ComponentKind,
  Config,
  Instance extends Lifecycle,
  Ctx extends ComponentContext = ComponentContext,
> {
  /** The type as written in config (`file`, `syslog_udp`, `kafka`; parsers: the --format name). */
  type: string;
  kind: Kind;
  summary: string;
  /** Its config, with a description on every key (docs/config.md is generated from it). */
  config: z.ZodType<Config>;
  /**
   * Where its keys live in socstream.yaml (`alerts`, `alert_store`, `enrich`, ...), for docs and
   * error messages; absent: `sources[]` for a source.
   */
  section?: string;
  /** A minimal valid config (input form) for docs and the conformance test; `{}` when omitted. */
  example?: unknown;
  /** Builds the instance; no I/O (that is start()'s). */
  create(config: Config, ctx: Ctx): Instance;
}

/** The lifecycle of a component that holds nothing (a pure transform, a parser): every step a no-op. */
export function idleLifecycle(): Lifecycle {
  return {
    start: async () => {},
    healthcheck: async () => ({ ok: true }),
    flush: async () => {},
    stop: async () => {},
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds components with different configs
export type AnyDefinition = ComponentDefinition<ComponentKind, any, Lifecycle, any>;
// biome-ignore lint/suspicious/noExplicitAny: the registry holds components with different configs
export type SourceDefinition<C = any> = ComponentDefinition<'source', C, Source>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type SinkDefinition<C = any> = ComponentDefinition<'sink', C, Sink>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type DeadLetterDefinition<C = any> = ComponentDefinition<'dlq', C, DeadLetter>;
/**
 * A transform (normalize, enrich, route, detect): a stage between parsing and the outputs. Its
 * instance is the stage's own object with the one lifecycle; create() may read the stage's files
 * (mappings, rules) but opens no handle.
 */
// biome-ignore lint/suspicious/noExplicitAny: as above
export type TransformDefinition<C = any, I extends Lifecycle = Lifecycle> = ComponentDefinition<
  'transform',
  C,
  I
>;
