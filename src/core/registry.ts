import { z } from 'zod';
import { InternalError } from './errors.ts';

/** A registry per component kind; duplicates are rejected at construction. */
export class Registry<D extends { type: string }> {
  readonly #byType = new Map<string, D>();
  readonly kind: string;
  constructor(kind: string, definitions: readonly D[]) {
    this.kind = kind;
    for (const d of definitions) {
      if (this.#byType.has(d.type)) throw new InternalError(`duplicate ${kind} component type "${d.type}"`);
      this.#byType.set(d.type, d);
    }
  }
  get(type: string): D | undefined {
    return this.#byType.get(type);
  }
  types(): string[] {
    return [...this.#byType.keys()];
  }
  all(): D[] {
    return [...this.#byType.values()];
  }
}

/**
 * The part of a flat config section (`alerts`, `alert_store`, `dlq`) that one definition's config
 * declares: several definitions share such a section, each validating only its own keys.
 */
export function ownConfig(config: z.ZodType, section: object): Record<string, unknown> {
  if (!(config instanceof z.ZodObject)) return { ...section };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(config.shape))
    if (key in section) out[key] = (section as Record<string, unknown>)[key];
  return out;
}
