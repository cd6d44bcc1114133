/**
 * The schema of a logsource table (logsources.yaml, `detect.logsources` in socstream.yaml): only
 * zod, so the config schema can use it without loading the Sigma engine.
 */
import { z } from 'zod';

export const LAYERS = ['raw', 'normalized', 'enriched'] as const;
export type Layer = (typeof LAYERS)[number];

const pathSchema = z
  .string()
  .regex(/^(raw|normalized|enriched)\.\S+$/, 'a path starts with raw., normalized. or enriched.');
const pathsSchema = z.union([pathSchema, z.array(pathSchema).min(1)]);
/**
 * A derived field (pySigma's value mapping): read `from`, translate its value through `map`
 * (case-insensitive); values the map does not name make the field absent.
 */
export const mappedSchema = z.object({ from: pathsSchema, map: z.record(z.string(), z.string()) }).strict();
const fieldSpecSchema = z.union([
  pathSchema,
  mappedSchema,
  z.array(z.union([pathSchema, mappedSchema])).min(1),
]);
const fieldMapSchema = z.record(z.string(), fieldSpecSchema);
export type FieldSpec = z.infer<typeof fieldSpecSchema>;

export const eventSchema = z
  .object({
    source: z.string().min(1).describe('Envelope source of the events (zeek, json, ...)'),
    log_type: z
      .string()
      .min(1)
      .optional()
      .describe('Envelope log_type; absent = every log type of the source'),
    fields: z
      .union([z.string(), z.array(z.union([z.string(), fieldMapSchema])), fieldMapSchema])
      .optional()
      .describe(
        'Field map: Sigma name → raw./normalized./enriched. path (or a list: first present), or fieldset names',
      ),
    fallback: z
      .array(z.enum(LAYERS))
      .optional()
      .describe('Layers an unmapped Sigma name is read from, in order (default raw, normalized)'),
    keywords: z.array(pathSchema).optional().describe('Paths keyword searches read (default: all of raw)'),
  })
  .strict();

export const logsourceKeySchema = z
  .object({
    product: z.string().optional().describe('Sigma logsource product'),
    category: z.string().optional().describe('Sigma logsource category'),
    service: z.string().optional().describe('Sigma logsource service'),
  })
  .strict();

/** One logsource: the Sigma product / category / service and the event kinds it covers. */
export const logsourceEntrySchema = z
  .object({
    logsource: logsourceKeySchema,
    events: z.array(eventSchema).min(1).describe('The event kinds (source, log_type) the logsource covers'),
  })
  .strict();

export const logsourceTableSchema = z
  .object({
    fieldsets: z.record(z.string(), fieldMapSchema).default({}),
    logsources: z.array(logsourceEntrySchema),
  })
  .strict();

export type LogsourceEntry = z.infer<typeof logsourceEntrySchema>;

export type LogsourceTable = z.infer<typeof logsourceTableSchema>;
export type LogsourceKey = z.infer<typeof logsourceKeySchema>;
