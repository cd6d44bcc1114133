import type { Config } from '../config/schema.ts';
import type { Envelope } from '../core/envelope.ts';
import { stableId } from '../core/ids.ts';
import type { Telemetry } from '../metrics/telemetry.ts';
import type { Alert } from './alert.ts';
import { createAlertBuilder, type Raised } from './alerts.ts';
import type { CorrelationHit, CorrelationMatch } from './correlate/correlator.ts';
import { type CorrelationPlan, compilePlan, matchFromEvent, matchFromHit } from './correlate/plan.ts';

/**
 * The detection stage: single-event Sigma rules, then correlations, then alerts.
 *
 * Correlation windows run on event time. The detector keeps one event clock (the largest event time
 * seen) and hands every correlator the watermark `clock − allowed_lateness_ms` *per event*, so the
 * alerts depend only on the order of the events, never on how they were batched: replaying old logs
 * detects the same as live traffic.
 */
export interface DetectRule {
  id: string;
  name?: string;
  title: string;
  level: string;
  tags: readonly string[];
  match(env: Envelope): boolean;
}

export interface DetectRuleSet {
  rules: readonly DetectRule[];
  correlations: ReadonlyArray<{ doc: unknown; file: string }>;
}

/** The single-event matcher (src/detect/sigma's createMatcher indexes rules by logsource). */
export interface RuleMatcher {
  match(env: Envelope): readonly DetectRule[];
}

export interface DetectorOptions {
  ruleSet: DetectRuleSet;
  config: Config['detect'];
  telemetry?: Telemetry;
  matcher?: RuleMatcher;
  /** Processing clock for created_at (tests pin it). */
  now?: () => number;
  /** event_ids kept per alert. */
  maxEventIds?: number;
}

export interface DetectorStats {
  events: number;
  ruleMatches: number;
  alertsRaised: number;
  alertsUpdated: number;
  lateDropped: number;
  evictions: number;
  groups: number;
  openAlerts: number;
  /** Event time watermark, epoch ms (−Infinity before the first event). */
  watermark: number;
  problems: string[];
}

export interface Detector {
  /** Alerts raised or updated by these events (each alert once, in its latest state). */
  process(events: readonly Envelope[]): Alert[];
  /**
   * With `nowMs` (processing time, the clock of `options.now`): the event clock moves on by the wall
   * time elapsed since the last batch of events arrived, so an idle live stream still closes its
   * windows while a busy replay of old logs is not pushed ahead of its own event times. Without:
   * end of input — every open window is decided.
   */
  advance(nowMs?: number): Alert[];
  /**
   * Distributed mode, process side: single-event rules alert here; what correlations need leaves as
   * matches, to be re-keyed by `matchKey` (correlation + group) so each group's window lives on
   * one correlate worker.
   */
  extract(events: readonly Envelope[]): { alerts: Alert[]; matches: CorrelationMatch[] };
  /** Distributed mode, correlate side: windows fed with matches (also how a worker rebuilds them). */
  ingestMatches(matches: readonly CorrelationMatch[]): Alert[];
  stats(): DetectorStats;
  /** Ids of the rules and correlations that raise alerts (the rest only feed correlations). */
  alertingRuleIds(): ReadonlySet<string>;
}

/**
 * Each correlator is swept (windows closed, expired groups dropped) at most once per half its
 * timespan of event time, and at least 1 s apart. Sweeping only moves memory release and at-close
 * decisions, not what is decided (unless a rule is at its group limit), so it need not run per batch.
 */
const MIN_SWEEP_INTERVAL_MS = 1000;

/** Scans every rule: the fallback when no indexed matcher is given. */
export function linearMatcher(rules: readonly DetectRule[]): RuleMatcher {
  const none: DetectRule[] = [];
  return {
    match(env) {
      let out = none;
      for (const r of rules) {
        if (r.match(env)) {
          if (out === none) out = [];
          out.push(r);
        }
      }
      return out;
    },
  };
}

export function eventTimeOf(env: Envelope, fallback: number): number {
  const t = env.normalized.event_time;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  const i = env.normalized.ingest_time;
  return typeof i === 'number' && Number.isFinite(i) ? i : fallback;
}

export function createDetector(options: DetectorOptions): Detector {
  const { config, telemetry } = options;
  const now = options.now ?? Date.now;
  const maxEventIds = options.maxEventIds ?? 100;
  const plan: CorrelationPlan = compilePlan(options.ruleSet.rules, options.ruleSet.correlations, {
    maxGroupsPerRule: config.max_groups_per_rule,
    maxEventIds,
  });
  const matcher = options.matcher ?? linearMatcher(options.ruleSet.rules);
  const alerts = createAlertBuilder({
    suppressionMs: config.suppression_seconds * 1000,
    maxEventIds,
    maxOpenAlerts: config.max_groups_per_rule,
    now,
  });
  const lateness = config.allowed_lateness_ms;
  // Rules whose matches alert directly: resolved once, not per event.
  const standalone = new Set(options.ruleSet.rules.filter((r) => plan.alerts(r.id)).map((r) => r.id));
  const correlationsAlert = new Map(plan.correlators.map((c) => [c.def.id, plan.alerts(c.def.id)]));

  const byId = new Map(plan.correlators.map((c) => [c.def.id, c]));
  const sweepEvery = plan.correlators.map((c) => Math.max(MIN_SWEEP_INTERVAL_MS, c.def.timespanMs / 2));
  const sweptAt = plan.correlators.map(() => Number.NEGATIVE_INFINITY);
  const lateReported = plan.correlators.map(() => 0);
  let clock = Number.NEGATIVE_INFINITY;
  // Processing time of the last batch with events, and the event clock then (idle advance).
  let arrivalWall = Number.NaN;
  let clockAtArrival = Number.NEGATIVE_INFINITY;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let events = 0;
  let ruleMatches = 0;
  let raised = 0;
  let updated = 0;
  let out = new Map<string, Alert>();

  function emit({ alert, isNew }: Raised, ingestTime: unknown): void {
    if (isNew) raised++;
    else updated++;
    out.set(alert.id, alert);
    telemetry?.alerts.inc({ rule: alert.rule_id, level: alert.level });
    if (isNew && typeof ingestTime === 'number') {
      telemetry?.detectionLatency.observe(Math.max(0, now() - ingestTime) / 1000);
    }
  }

  function onHits(hits: readonly CorrelationHit[], ingestTime: unknown): void {
    for (const hit of hits) {
      const def = hit.def;
      if (correlationsAlert.get(def.id)) {
        emit(alerts.fromHit(hit), ingestTime);
      }
      const parents = plan.consumers.get(def.id);
      if (!parents) continue;
      // A hit is an "event" for its parents. Derived matches are never late: the child decides
      // them when its window closes, which is necessarily behind the watermark.
      const eventId = stableId(def.id, hit.group.join('\u0000'), hit.window_start);
      for (const consumer of parents) {
        const m = matchFromHit(consumer, def, hit.group, hit.last_seen, eventId);
        if (m) onHits(consumer.correlator.ingest(m, Number.NEGATIVE_INFINITY), ingestTime);
      }
    }
  }

  /** `emitTo` set: matches for correlations are handed out (distributed mode) instead of ingested. */
  function processOne(env: Envelope, emitTo: CorrelationMatch[] | null): void {
    events++;
    const t = eventTimeOf(env, now());
    if (t > clock) clock = t;
    const watermark = clock - lateness;
    const matched = matcher.match(env);
    for (let i = 0; i < matched.length; i++) {
      const rule = matched[i];
      ruleMatches++;
      telemetry?.ruleMatches.inc({ rule: rule.id });
      if (standalone.has(rule.id)) {
        emit(alerts.fromEvent(rule, env, t), env.normalized.ingest_time);
      }
      const consumers = plan.consumers.get(rule.id);
      if (!consumers) continue;
      for (const consumer of consumers) {
        const m = matchFromEvent(consumer, env, t);
        if (!m) continue;
        if (emitTo) emitTo.push(m);
        else onHits(consumer.correlator.ingest(m, watermark), env.normalized.ingest_time);
      }
    }
  }

  function ingestMatch(m: CorrelationMatch): void {
    if (m.event_time > clock) clock = m.event_time;
    const correlator = byId.get(m.correlation_id);
    if (correlator) onHits(correlator.ingest(m, clock - lateness), undefined);
  }

  function afterBatch(n: number): Alert[] {
    if (n > 0) {
      arrivalWall = now();
      clockAtArrival = clock;
    }
    const watermark = clock - lateness;
    if (watermark - lastSweep >= MIN_SWEEP_INTERVAL_MS) sweep(watermark, false);
    return drain();
  }

  function sweep(watermark: number, force: boolean): void {
    lastSweep = watermark;
    plan.correlators.forEach((c, i) => {
      if (!force && watermark - sweptAt[i] < sweepEvery[i]) return;
      sweptAt[i] = watermark;
      onHits(c.sweep(watermark), undefined);
      const evicted = c.takeEvictions();
      if (telemetry) {
        const stats = c.stats();
        if (evicted > 0) telemetry.correlationEvictions.inc({ rule: c.def.id }, evicted);
        if (stats.lateDropped > lateReported[i]) {
          telemetry.correlationLate.inc({ rule: c.def.id }, stats.lateDropped - lateReported[i]);
          lateReported[i] = stats.lateDropped;
        }
        telemetry.correlationGroups.set({ rule: c.def.id }, stats.groups);
      }
    });
    alerts.expire(watermark);
  }

  function drain(): Alert[] {
    alerts.seal();
    const list = [...out.values()];
    out = new Map();
    return list;
  }

  return {
    process(batch) {
      for (let i = 0; i < batch.length; i++) processOne(batch[i], null);
      return afterBatch(batch.length);
    },
    extract(batch) {
      const matches: CorrelationMatch[] = [];
      for (let i = 0; i < batch.length; i++) processOne(batch[i], matches);
      return { alerts: afterBatch(batch.length), matches };
    },
    ingestMatches(matches) {
      for (let i = 0; i < matches.length; i++) ingestMatch(matches[i]);
      return afterBatch(matches.length);
    },
    advance(nowMs) {
      if (nowMs === undefined) {
        sweep(Number.POSITIVE_INFINITY, true);
        lastSweep = clock - lateness;
      } else if (!Number.isNaN(arrivalWall)) {
        const idleClock = clockAtArrival + Math.max(0, nowMs - arrivalWall);
        if (idleClock > clock) clock = idleClock;
        sweep(clock - lateness, true);
      }
      return drain();
    },
    alertingRuleIds() {
      const ids = new Set(standalone);
      for (const [id, alerts] of correlationsAlert) if (alerts) ids.add(id);
      return ids;
    },
    stats() {
      let lateDropped = 0;
      let evictions = 0;
      let groups = 0;
      for (const c of plan.correlators) {
        const s = c.stats();
        lateDropped += s.lateDropped;
        evictions += s.evictions;
        groups += s.groups;
      }
      return {
        events,
        ruleMatches,
        alertsRaised: raised,
        alertsUpdated: updated,
        lateDropped,
        evictions,
        groups,
        openAlerts: alerts.openAlerts(),
        watermark: clock - lateness,
        problems: plan.problems,
      };
    },
  };
}
