import type { Lifecycle, TransformDefinition } from '../core/component.ts';
import { type EnrichConfig, enrichSchema } from './enrich-schema.ts';
import { createEnricher, type Enricher } from './enricher.ts';

export interface EnrichTransform extends Lifecycle {
  readonly enricher: Enricher;
}

/** `enrich`: direction, time parts, IOC lists, assets and GeoIP (docs/enrich.md). */
export const enrichTransform: TransformDefinition<EnrichConfig, EnrichTransform> = {
  type: 'enrich',
  kind: 'transform',
  section: 'enrich',
  summary: 'Adds direction, time parts, IOC matches, asset and GeoIP data to each event',
  config: enrichSchema,
  example: { home_networks: ['10.0.0.0/8'] },
  create: (config, ctx) => {
    const enricher = createEnricher(config, ctx);
    let started = false;
    return {
      enricher,
      async start() {
        await enricher.start();
        started = true;
      },
      healthcheck: async () => (started ? { ok: true } : { ok: false, detail: 'not started' }),
      async flush() {},
      async stop() {
        started = false;
        await enricher.stop();
      },
    };
  },
};
