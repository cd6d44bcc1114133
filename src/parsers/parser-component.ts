import { z } from 'zod';
import { type ComponentDefinition, idleLifecycle, type Lifecycle } from '../core/component.ts';
import type { Parser, ParserDefinition, ParserOptions } from './parser.ts';

/** A format as a component: its settings bound, a parser opened per stream. */
export interface ParserComponent extends Lifecycle {
  readonly format: string;
  open(options?: Omit<ParserOptions, 'settings'>): Parser;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds formats with different settings
export type ParserComponentDefinition<C = any> = ComponentDefinition<'parser', C, ParserComponent>;

/** A format that takes no settings: an empty, strict object. */
const NO_SETTINGS = z.object({}).strict();

/**
 * A parser definition (parser.ts) as a registered component: type = the --format name, config =
 * its `parsers.settings.<format>` schema. Parsers hold nothing, so the lifecycle is idle.
 */
export function parserComponent(def: ParserDefinition): ParserComponentDefinition {
  return {
    type: def.format,
    kind: 'parser',
    section: `parsers.settings.${def.format}`,
    summary: def.summary,
    config: def.settings ?? NO_SETTINGS,
    create: (settings) => ({
      ...idleLifecycle(),
      format: def.format,
      open: (options = {}) => def.create({ ...options, settings }),
    }),
  };
}
