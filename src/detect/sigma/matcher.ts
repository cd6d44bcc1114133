/**
 * The per-event entry point: rules indexed by the kind of event (source + log_type) their
 * logsource covers, so an event meets only the predicates that can match it. The list for a kind
 * is computed the first time such an event arrives and reused after that (log types are open-ended,
 * so they are not enumerated up front).
 */
import type { Envelope } from '../../core/envelope.ts';
import type { CompiledRule } from './load.ts';
import type { Predicate } from './modifiers.ts';

interface Bucket {
  rules: CompiledRule[];
  predicates: Predicate[];
}

export interface RuleMatcher {
  /** The rules whose logsource covers this event's source and log type. */
  candidates(env: Envelope): CompiledRule[];
  /** The rules that match the event. */
  match(env: Envelope): CompiledRule[];
}

const NONE: CompiledRule[] = [];

export function createMatcher(rules: readonly CompiledRule[]): RuleMatcher {
  // source → log_type → bucket: two Map lookups per event, no key string built per event.
  const buckets = new Map<string, Map<string, Bucket>>();
  const build = (source: string, logType: string): Bucket => {
    const b: Bucket = { rules: [], predicates: [] };
    for (const rule of rules) {
      const t = rule.targets.find(
        (t) => t.source === source && (t.logType === undefined || t.logType === logType),
      );
      if (t) {
        b.rules.push(rule);
        b.predicates.push(t.predicate);
      }
    }
    return b;
  };
  // The last event kind's bucket: consecutive events are nearly always of one kind (a batch is one
  // topic-partition), which saves the two lookups.
  let lastSource: string | undefined;
  let lastLogType: string | undefined;
  let lastBucket: Bucket | undefined;
  const bucketFor = (env: Envelope): Bucket => {
    if (lastBucket !== undefined && env.log_type === lastLogType && env.source === lastSource)
      return lastBucket;
    lastBucket = lookup(env);
    lastSource = env.source;
    lastLogType = env.log_type;
    return lastBucket;
  };
  const lookup = (env: Envelope): Bucket => {
    let bySource = buckets.get(env.source);
    if (!bySource) {
      bySource = new Map();
      buckets.set(env.source, bySource);
    }
    let b = bySource.get(env.log_type);
    if (!b) {
      b = build(env.source, env.log_type);
      bySource.set(env.log_type, b);
    }
    return b;
  };
  return {
    candidates: (env) => bucketFor(env).rules,
    match(env) {
      const { rules: rs, predicates } = bucketFor(env);
      let out = NONE;
      for (let i = 0; i < predicates.length; i++) {
        if (predicates[i](env)) {
          if (out === NONE) out = [];
          out.push(rs[i]);
        }
      }
      return out;
    },
  };
}
