import { z } from 'zod';
import { busSchema, kafkaSchema, topicsSchema } from '../bus/bus-schema.ts';
import { ALERT_OUTPUTS, ALERT_STORES, DEAD_LETTERS, SOURCES } from '../components.ts';
import { d } from '../core/describe.ts';
import type { Registry } from '../core/registry.ts';
import { detectSchema } from '../detect/detect-schema.ts';
import { enrichSchema } from '../enrich/enrich-schema.ts';
import { mappingsSchema } from '../normalize/normalize-transform.ts';
import { routeSchema } from '../normalize/route-schema.ts';
import { routesSchema } from '../normalize/route-transform.ts';
import { consoleAlertConfig } from '../sinks/alert-console.ts';
import { kafkaAlertConfig } from '../sinks/alert-kafka.ts';
import { postgresAlertStoreConfig } from '../sinks/alert-store-postgres.ts';
import { sqliteAlertStoreConfig } from '../sinks/alert-store-sqlite.ts';
import { webhookAlertConfig } from '../sinks/alert-webhook.ts';
import { dlqFileConfig } from '../sinks/dlq-file.ts';
import { dlqKafkaConfig } from '../sinks/dlq-kafka.ts';
import { lakeSchema } from '../sinks/parquet/lake-schema.ts';
import { parsersSchema, processSchema, serveSchema, sourceEntrySchema, tokenSchema } from './sections.ts';

/**
 * socstream.yaml, ASSEMBLED: the frame and the sections that belong to no component are in
 * ./sections.ts; every component's keys are beside the component (its definition's `config`,
 * registered in src/components.ts). Every object is strict: an unknown key is an error naming the
 * key and the file. docs/config.md is generated from this schema (`node scripts/gen-config-doc.ts`),
 * so every key carries a description.
 *
 * The sections' schemas keep their export names here (tests and tools import them from this file).
 */
export {
  busSchema,
  detectSchema,
  enrichSchema,
  kafkaSchema,
  lakeSchema,
  parsersSchema,
  processSchema,
  routeSchema,
  serveSchema,
  sourceEntrySchema,
  tokenSchema,
  topicsSchema,
};

/** A section's `type`: one of the registry's types, the first the default. */
function typeKey(registry: Registry<{ type: string }>, description: string) {
  const [first, ...rest] = registry.types();
  return d(z.enum([first, ...rest]).default(first), description);
}

/** The keys of a one-of section's definition without its `type` (the section's `type` picks it). */
function ownKeys<S extends z.ZodRawShape>(config: z.ZodObject<S>) {
  return config.omit({ type: true } as never).shape as Omit<S, 'type'>;
}

/**
 * `alerts:`: every alert output's keys (src/sinks/alert-*.ts; each one a registered
 * ALERT_OUTPUTS definition), and the coalescing interval they share.
 */
export const alertsSchema = z
  .object({
    ...consoleAlertConfig.shape,
    update_interval_seconds: d(
      z.number().min(0).default(30),
      'Updates of one alert go to the outputs at most once per this many seconds (the latest state; the last one always goes out); 0 = every update',
    ),
    ...kafkaAlertConfig.shape,
    ...webhookAlertConfig.shape,
  })
  .strict();

/** `alert_store:`: `type` picks one of ALERT_STORES; each store's own keys. */
export const alertStoreSchema = z
  .object({
    type: typeKey(ALERT_STORES, 'sqlite is embedded; postgres for teams'),
    ...sqliteAlertStoreConfig.shape,
    ...postgresAlertStoreConfig.shape,
  })
  .strict();

/** `dlq:`: `type` picks one of DEAD_LETTERS; each output's own keys (shared ones once). */
export const dlqSchema = z
  .object({
    type: typeKey(DEAD_LETTERS, 'Where rejected records go'),
    ...ownKeys(dlqFileConfig),
    ...ownKeys(dlqKafkaConfig),
  })
  .strict();

/** The sections assembled from one registry each, with that registry (docs, the conformance test). */
export const COMPONENT_SECTIONS = {
  alerts: { schema: alertsSchema, registry: ALERT_OUTPUTS, frame: ['update_interval_seconds'] },
  alert_store: { schema: alertStoreSchema, registry: ALERT_STORES, frame: ['type'] },
  dlq: { schema: dlqSchema, registry: DEAD_LETTERS, frame: ['type'] },
} as const;

export const configSchema = z
  .object({
    data_dir: d(z.string().default('.data'), 'State directory (checkpoints, lake, sqlite)'),
    log_level: d(
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      'Structured log (pino) level',
    ),
    bus: busSchema.default(busSchema.parse({})),
    topics: topicsSchema.default(topicsSchema.parse({})),
    sources: d(
      z.array(sourceEntrySchema).default([]),
      `Inputs, each a ${SOURCES.types().join(', ')} source; each type's keys are below (Sources) and in docs/sources.md`,
    ),
    mappings: mappingsSchema,
    enrich: enrichSchema.default(enrichSchema.parse({})),
    routes: routesSchema,
    detect: detectSchema.default(detectSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    lake: lakeSchema.default(lakeSchema.parse({})),
    alert_store: alertStoreSchema.default(alertStoreSchema.parse({})),
    dlq: dlqSchema.default(dlqSchema.parse({})),
    parsers: parsersSchema.default(parsersSchema.parse({})),
    process: processSchema.default(processSchema.parse({})),
    serve: serveSchema.default(serveSchema.parse({})),
    metrics_port: d(z.number().int().min(0).max(65535).optional(), 'Metrics port for headless roles'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
