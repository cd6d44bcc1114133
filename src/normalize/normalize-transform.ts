import { z } from 'zod';
import { idleLifecycle, type Lifecycle, type TransformDefinition } from '../core/component.ts';
import { d } from '../core/describe.ts';
import { createNormalizer, type Normalizer } from './normalize.ts';

/** `mappings:` in socstream.yaml (moved from src/config/schema.ts). */
export const mappingsSchema = d(
  z.array(z.string()).default([]),
  'Extra mapping files or folders; they add or override the shipped per-log-type mappings',
);

export interface NormalizeTransform extends Lifecycle {
  readonly normalizer: Normalizer;
}

/** `normalize`: parsed fields → the normalized schema, by the per-log-type mappings (docs/normalize.md). */
export const normalizeTransform: TransformDefinition<z.infer<typeof mappingsSchema>, NormalizeTransform> = {
  type: 'normalize',
  kind: 'transform',
  section: 'mappings',
  summary: 'Maps parsed fields to the normalized schema by the shipped and configured mappings',
  config: mappingsSchema,
  example: [],
  create: (mappings) => ({ ...idleLifecycle(), normalizer: createNormalizer({ extraMappings: mappings }) }),
};
