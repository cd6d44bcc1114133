import { DEAD_LETTERS, SOURCES } from '../components.ts';
import type { Config } from '../config/schema.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createProcessor, type Processor } from '../core/processor.ts';
import { createDetector, type Detector, type DetectorOptions } from '../detect/detector.ts';
import { loadRules, summarizeWarnings } from '../detect/sigma/load.ts';
import { createMatcher } from '../detect/sigma/matcher.ts';
import { ruleLoadOptions } from '../detect/sigma/options.ts';
import { createEnricher, type Enricher } from '../enrich/enricher.ts';
import type { Telemetry } from '../metrics/telemetry.ts';
import { createNormalizer } from '../normalize/normalize.ts';
import { validateParserSettings } from '../parsers/registry.ts';
import { validateSourceConfig } from '../sources/validate.ts';
import type { NamedSource } from './ingest.ts';

/**
 * Builders shared by `run` and `demo`: each turns one config section into the component that
 * serves it. None of them does I/O beyond reading rule and mapping files; `start()` opens things.
 */

export function buildSources(config: Config, ctx: ComponentContext, file: string): NamedSource[] {
  return config.sources.map((entry, index) => {
    const valid = validateSourceConfig(entry, index, file) as { type: string; name?: string };
    const def = SOURCES.get(valid.type);
    if (!def) throw new ConfigError(`${file}: sources[${index}].type: unknown source type "${valid.type}"`);
    const name = valid.name ?? `${valid.type}${index}`;
    return { name, topic: `${config.topics.raw_prefix}${name}`, source: def.create(valid, ctx) };
  });
}

export function buildDeadLetter(config: Config, ctx: ComponentContext): DeadLetter {
  const def = DEAD_LETTERS.get(config.dlq.type);
  if (!def) throw new ConfigError(`dlq.type: unknown dead-letter output "${config.dlq.type}"`);
  const entry =
    config.dlq.type === 'file'
      ? { type: 'file', path: config.dlq.path, max_bytes: config.dlq.max_bytes }
      : { type: 'kafka', topic: config.topics.dlq, max_bytes: config.dlq.max_bytes };
  return def.create(def.config.parse(entry), ctx);
}

export interface Engine {
  processor: Processor;
  enricher: Enricher;
}

export function buildEngine(
  config: Config,
  ctx: { logger: Logger; telemetry: Telemetry },
  file = 'socstream.yaml',
): Engine {
  const normalizer = createNormalizer({ extraMappings: config.mappings });
  const enricher = createEnricher(config.enrich, ctx);
  const parserSettings = validateParserSettings(config.parsers.settings, file);
  return { processor: createProcessor({ normalizer, enricher, parserSettings }), enricher };
}

export function buildDetector(config: Config, ctx: { logger: Logger; telemetry: Telemetry }): Detector {
  return createDetector(detectorOptions(config, ctx));
}

/** Rules loaded once (problems logged): the options of the detector or of its two distributed halves. */
export function detectorOptions(
  config: Config,
  ctx: { logger: Logger; telemetry: Telemetry },
): DetectorOptions {
  const ruleSet = loadRules(config.detect.rules, ruleLoadOptions(config.detect));
  const logger = ctx.logger.child({ component: 'detect' });
  for (const p of [...ruleSet.problems, ...summarizeWarnings(ruleSet.warnings)])
    logger.warn({ file: p.file, rule: p.rule_id, feature: p.feature }, p.message);
  logger.info(
    {
      rules: ruleSet.rules.length,
      correlations: ruleSet.correlations.length,
      problems: ruleSet.problems.length,
    },
    'rules loaded',
  );
  return {
    ruleSet,
    config: config.detect,
    telemetry: ctx.telemetry,
    matcher: createMatcher(ruleSet.rules),
  };
}
