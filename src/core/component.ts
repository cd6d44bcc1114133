import type { z } from 'zod';
import type { Bus } from './bus.ts';
import type { Envelope, InputRecord, Reject } from './envelope.ts';
import type { Logger } from './logger.ts';
import type { Telemetry } from './telemetry.ts';

/** What every component gets from the runtime. `create()` must not do I/O with it. */
export interface ComponentContext {
  logger: Logger;
  telemetry: Telemetry;
  /** Root for state (checkpoints, lake, sqlite) unless a component's config says otherwise. */
  dataDir: string;
  /** The bus, for components that talk to topics (kafka source, alerts output). */
  bus?: Bus;
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
 * only then does the source advance its checkpoint (file offset, Kafka commit).
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

export type ComponentKind = 'source' | 'sink' | 'dlq';

export interface ComponentDefinition<Kind extends ComponentKind, Config, Instance> {
  /** snake_case type as written in config (`file`, `syslog_udp`, `kafka`). */
  type: string;
  kind: Kind;
  summary: string;
  config: z.ZodType<Config>;
  /** A minimal valid config (input form) for docs and the conformance test; `{}` when omitted. */
  example?: Record<string, unknown>;
  create(config: Config, ctx: ComponentContext): Instance;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds components with different configs
export type SourceDefinition<C = any> = ComponentDefinition<'source', C, Source>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type SinkDefinition<C = any> = ComponentDefinition<'sink', C, Sink>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type DeadLetterDefinition<C = any> = ComponentDefinition<'dlq', C, DeadLetter>;
