import { detectSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { DetectRule } from '../../src/detect/detector.ts';

/** Synthetic events for window semantics: `kind` says which fake rule matches. */
export function ev(id: string, t: number, kind: string, fields: Record<string, unknown> = {}): Envelope {
  return {
    id,
    source: 'test',
    log_type: 'test',
    raw: {},
    normalized: { event_time: t, kind, ...fields },
    enriched: {},
  };
}

/** A rule matching events whose `kind` is its id (stand-in for a compiled Sigma rule). */
export function kindRule(id: string, extra: { name?: string; level?: string } = {}): DetectRule {
  return {
    id,
    ...(extra.name ? { name: extra.name } : {}),
    title: `rule ${id}`,
    level: extra.level ?? 'low',
    tags: [],
    match: (env) => env.normalized.kind === id,
  };
}

export function detectConfig(over: Partial<ReturnType<typeof detectSchema.parse>> = {}) {
  return { ...detectSchema.parse({}), ...over };
}

export const MIN = 60_000;
