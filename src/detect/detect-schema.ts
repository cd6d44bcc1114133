import { z } from 'zod';
import { d } from '../core/describe.ts';
import { logsourceEntrySchema } from './sigma/logsource-schema.ts';

/** `detect:` in socstream.yaml, the detect transform's config (src/detect/detect-transform.ts). */
export const detectSchema = z
  .object({
    rules: d(z.array(z.string()).default(['rules']), 'Folders or files of Sigma rules'),
    placeholders: d(
      z.record(z.string(), z.array(z.string())).default({}),
      'Values for the Sigma expand modifier (%name%)',
    ),
    allowed_lateness_ms: d(
      z.number().int().min(0).default(60_000),
      'Correlation windows accept events this late behind the watermark',
    ),
    idle_partition_ms: d(
      z.number().int().positive().default(30_000),
      'An input partition silent this long (wall time) stops holding back the event-time watermark',
    ),
    max_groups_per_rule: d(
      z.number().int().positive().default(100_000),
      'Correlation state bound; the oldest groups are evicted (counted in metrics)',
    ),
    suppression_seconds: d(
      z.number().int().min(0).default(300),
      'Same rule + group within this period updates the alert instead of raising a new one',
    ),
    regex_max_length: d(
      z.number().int().positive().default(4096),
      'Longest value a regex is run on (guards against catastrophic backtracking)',
    ),
    logsources: d(
      z.array(logsourceEntrySchema).default([]),
      'Sigma logsources added to the bundled table: {logsource: {product, category, service}, events: [{source, log_type, fields: {SigmaName: raw.path}}]} (docs/rules.md)',
    ),
  })
  .strict();

export type DetectConfig = z.infer<typeof detectSchema>;
