import { statSync } from 'node:fs';
import { DEAD_LETTERS, SOURCES } from '../components.ts';
import type { Config } from '../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import type { ComponentContext, DeadLetter } from '../core/component.ts';
import type { Envelope } from '../core/envelope.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { ownConfig } from '../core/registry.ts';
import { detectionFor } from '../detect/detect-transform.ts';
import { createEventMatcher, type Detector, type DetectorOptions } from '../detect/detector.ts';
import { loadRules, type RuleSet } from '../detect/sigma/load.ts';
import { type LogsourceFlags, ruleLoadOptions } from '../detect/sigma/options.ts';
import type { NamedSource } from '../roles/ingest.ts';
import { createProcessRole, type ProcessRole } from '../roles/process.ts';
import { ProcessWorker } from '../roles/process-worker.ts';
import { createStoreRole, type StoreRole } from '../roles/store.ts';
import { createLakeSink } from '../sinks/parquet/sink.ts';
import { createAlertStore } from './alerts.ts';
import type { Processor } from './processor.ts';
import { groupsOf, type TopicPlan } from './topics.ts';
import { validateSourceConfig } from './validate-source.ts';

// The engine and the rules as the process role's worker thread builds them too (a lean module).
export { buildEngine, detectorOptions, type Engine } from './engine.ts';

/**
 * Builders: each turns config sections into the component or role that serves them — for `run`,
 * `demo` and the CLI commands alike. None of them does I/O beyond reading rule and mapping files;
 * `start()` / `run()` open things.
 */

/** Sources the ingest role runs: every configured one but Kafka's (the process role reads those). */
function ingestEntries(config: Config): Array<{ entry: Config['sources'][number]; index: number }> {
  return config.sources
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entry.type !== 'kafka');
}

/** A source's name: configured, else `<type><index>`; its raw topic is `<raw_prefix><name>`. */
function sourceName(valid: { type: string; name?: string }, index: number): string {
  return valid.name ?? `${valid.type}${index}`;
}

/** The raw topics the ingest role fills, one per non-Kafka source (validated, no instance made). */
export function ingestTopics(config: Config, file: string): string[] {
  return ingestEntries(config).map(({ entry, index }) => {
    const valid = validateSourceConfig(entry, index, file) as { type: string; name?: string };
    return `${config.topics.raw_prefix}${sourceName(valid, index)}`;
  });
}

export function buildSources(config: Config, ctx: ComponentContext, file: string): NamedSource[] {
  return ingestEntries(config).map(({ entry, index }) => {
    const valid = validateSourceConfig(entry, index, file) as { type: string; name?: string };
    const def = SOURCES.get(valid.type);
    if (!def) throw new ConfigError(`${file}: sources[${index}].type: unknown source type "${valid.type}"`);
    const name = sourceName(valid, index);
    return { name, topic: `${config.topics.raw_prefix}${name}`, source: def.create(valid, ctx) };
  });
}

/** The output `dlq.type` names (DEAD_LETTERS), with its own keys of the section; it publishes to topics.dlq. */
export function buildDeadLetter(config: Config, ctx: ComponentContext): DeadLetter {
  const def = DEAD_LETTERS.get(config.dlq.type);
  if (!def) throw new ConfigError(`dlq.type: unknown dead-letter output "${config.dlq.type}"`);
  return def.create(def.config.parse(ownConfig(def.config, config.dlq)), { topics: config.topics, ...ctx });
}

/** Loads rules as the detector wants them (problems stay in the set); a missing path is a usage error. */
export function loadRuleSet(
  paths: readonly string[],
  detect: Config['detect'],
  flags: LogsourceFlags = {},
): RuleSet {
  for (const p of paths) {
    try {
      statSync(p);
    } catch {
      throw new UsageError(`--rules ${p}: no such file or folder`);
    }
  }
  return loadRules(paths, ruleLoadOptions(detect, flags));
}

/**
 * The in-process detector over a loaded rule set (the CLI: detect, rules test, hunt): the same
 * composition (detect transform, src/detect/detect-transform.ts) as the stream's two halves.
 */
export function detectorFor(ruleSet: RuleSet, detect: Config['detect']): Detector {
  return detectionFor(ruleSet, detect).detector();
}

/** The store role as configured: alerts → the alert store, the plan's lake inputs → the lake. */
export function buildStoreRole(
  config: Config,
  plan: TopicPlan,
  deps: { bus: Bus; ctx: Pick<ComponentContext, 'logger' | 'telemetry'> },
): StoreRole {
  const ctx: ComponentContext = { ...deps.ctx, dataDir: config.data_dir, bus: deps.bus };
  return createStoreRole({
    bus: deps.bus,
    group: groupsOf(config).store,
    eventTopics: plan.lakeInputs,
    alertsTopic: plan.alerts,
    alertStore: createAlertStore(config.alert_store, config.data_dir),
    lake: plan.lakeInputs.length > 0 ? createLakeSink(config.lake, ctx) : undefined,
    ctx: deps.ctx,
    maxInFlightRecords: config.lake.max_uncommitted_events,
  });
}

/** The process role as configured: the plan's raw inputs, one pass into the lake, matches, routes. */
export function buildProcessRole(
  config: Config,
  plan: TopicPlan,
  deps: {
    bus: Bus;
    ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
    /** The engine on this thread; absent with process.workers > 0 (the worker builds its own). */
    processor?: Processor;
    detection: DetectorOptions;
    onEvents?: (events: Envelope[]) => void;
    /** The consumer group (default socstream-process). */
    group?: string;
    /** The config file (error messages of the worker's engine). */
    file?: string;
  },
): ProcessRole {
  const ctx: ComponentContext = { ...deps.ctx, dataDir: config.data_dir, bus: deps.bus };
  const worker =
    config.process.workers > 0
      ? new ProcessWorker({
          config,
          file: deps.file ?? 'socstream.yaml',
          topics: plan.raw,
          detection: true,
          // Envelopes come back only for what reads them here: a live tail, event routes.
          wantEnvelopes: deps.onEvents !== undefined || plan.route !== undefined,
          // Kafka serializes anyway: the worker encodes; the in-process bus hands objects on.
          encodeMatches: config.bus.type !== 'memory',
          logger: deps.ctx.logger,
          telemetry: deps.ctx.telemetry,
          maxHeapMb: config.process.worker_heap_mb,
        })
      : undefined;
  return createProcessRole({
    bus: deps.bus,
    group: deps.group ?? groupsOf(config).process,
    topics: plan.raw,
    processor: deps.processor,
    worker,
    lake: worker ? undefined : createLakeSink(config.lake, ctx),
    route: plan.route,
    dlq: buildDeadLetter(config, ctx),
    detection: { matcher: createEventMatcher(deps.detection), topic: plan.matches },
    onEvents: deps.onEvents,
    ctx: deps.ctx,
    maxInFlightRecords: config.lake.max_uncommitted_events,
  });
}
