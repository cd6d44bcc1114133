import type { Lifecycle, TransformDefinition } from '../core/component.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { type DetectConfig, detectSchema } from './detect-schema.ts';
import {
  type CorrelationState,
  createCorrelationState,
  createDetector,
  createEventMatcher,
  type Detector,
  type DetectorOptions,
  type EventMatcher,
} from './detector.ts';
import { loadRules, type RuleSet, summarizeWarnings } from './sigma/load.ts';
import { createMatcher } from './sigma/matcher.ts';
import { ruleLoadOptions } from './sigma/options.ts';

/**
 * The one detector composition: a rule set compiled once into the options every detector is made
 * from. The CLI (detect, rules test, hunt) runs both halves in one object (`detector()`); the
 * stream runs the stateless half in the process role (`eventMatcher()`) and the stateful half in
 * the correlate role (`correlationState()`). All three compile the same plan (detector.ts).
 */
export interface Detection {
  readonly options: DetectorOptions;
  detector(): Detector;
  eventMatcher(): EventMatcher;
  correlationState(): CorrelationState;
}

export interface DetectTransform extends Detection, Lifecycle {}

/** Detection over a loaded rule set. */
export function detectionFor(ruleSet: RuleSet, config: DetectConfig, telemetry?: Telemetry): Detection {
  const options: DetectorOptions = {
    ruleSet,
    config,
    ...(telemetry ? { telemetry } : {}),
    matcher: createMatcher(ruleSet.rules),
  };
  return {
    options,
    detector: () => createDetector(options),
    eventMatcher: () => createEventMatcher(options),
    correlationState: () => createCorrelationState(options),
  };
}

/** Logs the rule set's problems and warnings, and its size. */
export function reportRuleProblems(ruleSet: RuleSet, root: Logger): void {
  const logger = root.child({ component: 'detect' });
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
}

/** `detect`: Sigma rules and correlations over the events (docs/detection.md). */
export const detectTransform: TransformDefinition<DetectConfig, DetectTransform> = {
  type: 'detect',
  kind: 'transform',
  section: 'detect',
  summary: 'Sigma rules and correlations over the events: matches, then alerts',
  config: detectSchema,
  example: { rules: ['rules'] },
  create: (config, ctx) => {
    const ruleSet = loadRules(config.rules, ruleLoadOptions(config));
    reportRuleProblems(ruleSet, ctx.logger);
    let stopped = false;
    return {
      ...detectionFor(ruleSet, config, ctx.telemetry),
      async start() {
        stopped = false;
      },
      healthcheck: async () =>
        stopped
          ? { ok: false, detail: 'stopped' }
          : { ok: true, detail: `${ruleSet.rules.length} rules, ${ruleSet.problems.length} problems` },
      async flush() {},
      async stop() {
        stopped = true;
      },
    };
  },
};
