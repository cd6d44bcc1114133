import type { z } from 'zod';

/** A schema with its docs string: docs/config.md prints it, the conformance test requires one per key. */
export const d = <T extends z.ZodType>(schema: T, description: string): T =>
  schema.describe(description) as T;
