import type { Config } from '../config/schema.ts';
import type { TopicSpec } from '../core/bus.ts';
import { createRouter } from '../normalize/route.ts';
import type { EventRoute } from '../roles/process.ts';

/**
 * The one answer to "which topics exist, who writes each and who reads each". The runtime creates
 * these topics, subscribes each role to its inputs and drains exactly these groups at stop;
 * `socstream topics create` creates the same list.
 *
 *   raw inputs    ← ingest (sources), or other producers (kafka sources)   → process
 *   matches       ← process (single-event rule hits, keyed by rule + group) → correlate
 *   alerts        ← correlate                                             → store (alert store), serve (live)
 *   dlq           ← process (rejects, when dlq.type is kafka)
 *   event outputs ← process: routes' topics, and the class topics when topics.class_topics is on;
 *                   read by consumers outside socstream and by a serve role in another process (live tail)
 *   lake inputs   ← other producers (envelopes as JSON)                   → store (the lake)
 *
 * The lake is written by the process role in the same pass (roles/process.ts): no event topic is a
 * hop on the way to it.
 */
export interface RawInput {
  topic: string;
  /** The format, when the source names it (kafka sources' `format` / `formats`). */
  format?: string;
}

export interface TopicPlan {
  raw: RawInput[];
  matches: string;
  alerts: string;
  dlq: string;
  /** Topics the process role publishes events to (routes, class topics): none by default. */
  eventOutputs: string[];
  /** Topics the store role writes into the lake (besides the alerts into the alert store). */
  lakeInputs: string[];
  /** Where each event goes beyond the lake; undefined when no event topic is configured. */
  route?: EventRoute;
  /** Every topic socstream uses, with the configured partition count. */
  specs: TopicSpec[];
}

/** Groups of the pipeline's consumers (their committed offsets are socstream's progress). */
export interface Groups {
  process: string;
  correlate: string;
  store: string;
}

/** The groups of a pipeline: `<bus.group_prefix>-<role>`. */
export function groupsOf(config: Pick<Config, 'bus'>): Groups {
  const prefix = config.bus.group_prefix;
  return { process: `${prefix}-process`, correlate: `${prefix}-correlate`, store: `${prefix}-store` };
}

/** The groups under the default prefix. */
export const GROUPS: Groups = {
  process: 'socstream-process',
  correlate: 'socstream-correlate',
  store: 'socstream-store',
};

/**
 * `ingestTopics`: the raw topics the ingest role fills, one per non-Kafka source
 * (`<raw_prefix><name>`); Kafka sources add their own topics.
 */
export function topicPlan(config: Config, ingestTopics: readonly string[]): TopicPlan {
  const { topics } = config;
  const raw: RawInput[] = ingestTopics.map((topic) => ({ topic }));
  for (const entry of config.sources) {
    if (entry.type !== 'kafka') continue;
    const k = entry as unknown as { topics: string[]; format?: string; formats?: Record<string, string> };
    for (const topic of k.topics) raw.push({ topic, format: k.formats?.[topic] ?? k.format });
  }
  const classTopics = topics.class_topics ? [topics.network, topics.auth, topics.web, topics.other] : [];
  const eventOutputs = unique([...config.routes.map((r) => r.topic), ...classTopics]);
  const lakeInputs = unique(topics.lake_inputs);
  const plan: TopicPlan = {
    raw,
    matches: topics.matches,
    alerts: topics.alerts,
    dlq: topics.dlq,
    eventOutputs,
    lakeInputs,
    specs: unique([
      ...raw.map((r) => r.topic),
      topics.matches,
      topics.alerts,
      topics.dlq,
      ...eventOutputs,
      ...lakeInputs,
    ]).map((name) => ({ name, partitions: topics.partitions })),
  };
  if (eventOutputs.length > 0) plan.route = eventRoute(config);
  return plan;
}

/** Routes first (first match wins); the class topic only when class topics are on; else nowhere. */
function eventRoute(config: Config): EventRoute {
  const router = createRouter(config.routes, config.topics);
  const routed = new Set(config.routes.map((r) => r.topic));
  const classTopics = config.topics.class_topics;
  return (env) => {
    const r = router(env);
    return classTopics || routed.has(r.topic) ? r : null;
  };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
