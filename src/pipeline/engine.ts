import type { Config } from '../config/schema.ts';
import type { ComponentContext } from '../core/component.ts';
import type { Logger } from '../core/logger.ts';
import { createTelemetry, type Telemetry } from '../core/telemetry.ts';
import { detectTransform } from '../detect/detect-transform.ts';
import type { DetectorOptions } from '../detect/detector.ts';
import { type EnrichTransform, enrichTransform } from '../enrich/enrich-transform.ts';
import { normalizeTransform } from '../normalize/normalize-transform.ts';
import { validateParserSettings } from '../parsers/registry.ts';
import { createProcessor, type Processor } from './processor.ts';

/**
 * The front half's engine and the rules, from the config: what the process role needs, on its own
 * thread or in its worker thread (src/roles/process-worker-thread.ts), which imports this module
 * rather than build.ts (and so not every source, sink and role) to start faster.
 */

/** The front half's transforms, built through their definitions (normalize, enrich): the processor and the enrich lifecycle. */
export interface Engine {
  processor: Processor;
  /** The enrich transform: start() loads IOC lists, assets and GeoIP; stop() releases them. */
  enricher: EnrichTransform;
}

export function buildEngine(
  config: Config,
  ctx: { logger: Logger; telemetry?: Telemetry },
  file = 'socstream.yaml',
): Engine {
  const transformCtx: ComponentContext = {
    ...ctx,
    telemetry: ctx.telemetry ?? createTelemetry({ defaultMetrics: false }),
    dataDir: config.data_dir,
  };
  const normalize = normalizeTransform.create(config.mappings, transformCtx);
  const enrich = enrichTransform.create(config.enrich, transformCtx);
  const parserSettings = validateParserSettings(config.parsers.settings, file);
  return {
    processor: createProcessor({
      normalizer: normalize.normalizer,
      enricher: enrich.enricher,
      parserSettings,
    }),
    enricher: enrich,
  };
}

/**
 * Rules loaded once (problems logged) by the detect transform: the options of the detector or of
 * its two distributed halves.
 */
export function detectorOptions(
  config: Config,
  ctx: { logger: Logger; telemetry: Telemetry },
): DetectorOptions {
  return detectTransform.create(config.detect, { ...ctx, dataDir: config.data_dir }).options;
}
