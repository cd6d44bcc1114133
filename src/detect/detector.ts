import { type Envelope, eventTimeOf } from '../core/envelope.ts';
import { stableId } from '../core/ids.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { Alert } from './alert.ts';
import { createAlertBuilder, type Raised, type RuleInfo, SINGLE_EVENT_GROUP_FIELDS } from './alerts.ts';
import type { CorrelationHit, CorrelationMatch, Correlator } from './correlate/correlator.ts';
import type { CorrelationDef } from './correlate/parse.ts';
import {
  type Consumer,
  type CorrelationPlan,
  compilePlan,
  matchFromEvent,
  matchFromHit,
} from './correlate/plan.ts';
import type { DetectConfig } from './detect-schema.ts';
import {
  type CorrelationMatchMessage,
  type EventMatchMessage,
  MATCH_SEQ_SPAN,
  type MatchMessage,
} from './matches.ts';
import { createPartitionClocks } from './watermark.ts';

/**
 * The detection stage: single-event Sigma rules, then correlations, then alerts.
 *
 * Correlation windows run on event time. The detector keeps an event clock per input partition
 * (the largest event time seen there; watermark.ts combines them as the minimum over the partitions
 * that are not idle) and hands every correlator the watermark `clock − allowed_lateness_ms` *per
 * event*, so the alerts depend only on the order of the events within each partition, never on how
 * they were batched or interleaved: replaying old logs detects the same as live traffic.
 *
 * Two halves (ARCHITECTURE.md "Two ways to run", distributed mode):
 * - `createEventMatcher` (stateless, the process role): events → MatchMessages (matches.ts),
 *   re-keyed by rule + group key on the `matches` topic;
 * - `createCorrelationState` (stateful, the correlate role): the messages of the groups one worker
 *   owns → correlation windows, suppression, chains → alerts.
 * `createDetector` composes both per event, in one process, without messages in between.
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
  config: DetectConfig;
  telemetry?: Telemetry;
  matcher?: RuleMatcher;
  /** Processing clock for created_at (tests pin it). */
  now?: () => number;
  /** event_ids kept per alert. */
  maxEventIds?: number;
  /** Wall time after which a silent input partition leaves the watermark (default: config). */
  idlePartitionMs?: number;
}

export interface ProcessOptions {
  /**
   * The input partition these events were read from (e.g. `events.auth:3`). Each partition keeps its
   * own event clock; without it every call is one and the same partition.
   */
  partition?: string;
}

export interface DetectorStats {
  events: number;
  ruleMatches: number;
  alertsRaised: number;
  alertsUpdated: number;
  lateDropped: number;
  /** Matches delivered again (same event id and rule in the same window), counted once. */
  duplicates: number;
  evictions: number;
  groups: number;
  openAlerts: number;
  /** Event time watermark, epoch ms (−Infinity before the first event). */
  watermark: number;
  problems: string[];
}

export interface Detector {
  /** Alerts raised or updated by these events (each alert once, in its latest state). */
  process(events: readonly Envelope[], options?: ProcessOptions): Alert[];
  /**
   * With `nowMs` (processing time, the clock of `options.now`): the event clock moves on by the wall
   * time elapsed since the last batch of events arrived, so an idle live stream still closes its
   * windows while a busy replay of old logs is not pushed ahead of its own event times. Without:
   * end of input — every open window is decided.
   */
  advance(nowMs?: number): Alert[];
  /**
   * The input partitions this detector reads (a consumer's assignment): each holds the watermark
   * back until it delivers or goes idle, so a partition whose first batch comes later is not late.
   */
  assignPartitions(partitions: readonly string[]): void;
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

/** Idle input partitions leave the watermark minimum after this much wall time (config default). */
const DEFAULT_IDLE_PARTITION_MS = 30_000;

/**
 * How long (wall time) a silent partition still holds the eager windows' state back (the prune
 * floor, watermark.ts `floor`): the idle timeout × 20, at least 10 minutes. Long enough for a
 * crashed process member's partitions to be taken over and replayed, or for a broker outage;
 * a partition that never delivers again stops holding memory after it.
 */
const HOLD_IDLE_FACTOR = 20;
const MIN_HOLD_MS = 600_000;

/** The per-event pieces both halves share: what an event contributes, as messages. */
function singleEventGroup(env: Envelope): Record<string, string> {
  const group: Record<string, string> = {};
  for (const f of SINGLE_EVENT_GROUP_FIELDS) {
    const v = env.normalized[f];
    if (v === undefined || v === null || v === '') continue;
    group[f] = String(v);
  }
  return group;
}

/** The envelope view the alert builder needs of a single-event match that travelled as a message. */
function eventView(m: EventMatchMessage): Envelope {
  return {
    id: m.event_id,
    source: m.source,
    log_type: m.log_type,
    raw: {},
    normalized: m.group,
    enriched: {},
  };
}

/** Rules whose matches alert directly (the rest only feed correlations): resolved once. */
function standaloneRules(rules: readonly DetectRule[], plan: CorrelationPlan): Set<string> {
  return new Set(rules.filter((r) => plan.alerts(r.id)).map((r) => r.id));
}

function compile(options: DetectorOptions): CorrelationPlan {
  return compilePlan(options.ruleSet.rules, options.ruleSet.correlations, {
    maxGroupsPerRule: options.config.max_groups_per_rule,
    maxEventIds: options.maxEventIds ?? 100,
  });
}

/**
 * Chains in the distributed mode: a child's hit may feed its parent on the worker that owns the
 * child's group only when every hit of the parent's group comes from that one worker — the parent
 * references this child alone (a temporal parent over several rules needs their matches to meet)
 * and the parent's group-by (after aliases) includes every group-by field of the child, so one
 * parent group is fed by one child group. Otherwise the hit is re-published as a match, re-keyed by
 * the parent's group.
 */
function localChains(plan: CorrelationPlan): Set<Consumer> {
  const defs = new Map<string, CorrelationDef>(plan.correlators.map((c) => [c.def.id, c.def]));
  const refsOf = new Map<string, Set<string>>();
  for (const [refId, list] of plan.consumers) {
    for (const c of list) {
      const id = c.correlator.def.id;
      const refs = refsOf.get(id) ?? new Set<string>();
      refs.add(refId);
      refsOf.set(id, refs);
    }
  }
  const local = new Set<Consumer>();
  for (const [refId, list] of plan.consumers) {
    const child = defs.get(refId);
    if (!child) continue;
    for (const c of list) {
      if (refsOf.get(c.correlator.def.id)?.size !== 1) continue;
      if (child.groupBy.every((f) => c.groupFields.includes(f))) local.add(c);
    }
  }
  return local;
}

interface Counts {
  events: number;
  ruleMatches: number;
  /** Match messages whose seq was seen before (a replayed input), dropped. */
  replayed?: number;
}

/**
 * The stateful core: correlators, the alert builder (suppression), chains, the partition clocks.
 * `distributed`: chain hits that cannot be decided on this worker are collected for re-publishing.
 */
function createCore(options: DetectorOptions, plan: CorrelationPlan, distributed: boolean) {
  const { config, telemetry } = options;
  const now = options.now ?? Date.now;
  const maxEventIds = options.maxEventIds ?? 100;
  const alerts = createAlertBuilder({
    suppressionMs: config.suppression_seconds * 1000,
    maxEventIds,
    maxOpenAlerts: config.max_groups_per_rule,
    now,
  });
  const lateness = config.allowed_lateness_ms;
  const idleMs = options.idlePartitionMs ?? config.idle_partition_ms ?? DEFAULT_IDLE_PARTITION_MS;
  const clocks = createPartitionClocks(idleMs);
  const holdMs = Math.max(MIN_HOLD_MS, idleMs * HOLD_IDLE_FACTOR);
  // Event time a rebuild replays back to, behind the watermark: every open window and every open
  // alert's suppression period (correlate role, rebuild on assignment).
  const rebuildHorizonMs =
    lateness +
    config.suppression_seconds * 1000 +
    plan.correlators.reduce((max, c) => Math.max(max, c.def.timespanMs), 0);
  const standalone = standaloneRules(options.ruleSet.rules, plan);
  const correlationsAlert = new Map(plan.correlators.map((c) => [c.def.id, plan.alerts(c.def.id)]));
  const byId = new Map(plan.correlators.map((c) => [c.def.id, c]));
  const local = distributed ? localChains(plan) : null;
  const sweepEvery = plan.correlators.map((c) => Math.max(MIN_SWEEP_INTERVAL_MS, c.def.timespanMs / 2));
  const sweptAt = plan.correlators.map(() => Number.NEGATIVE_INFINITY);
  const lateReported = plan.correlators.map(() => 0);
  const counts: Counts = { events: 0, ruleMatches: 0 };
  // Processing time of the last batch with events, and the event clock then (idle advance).
  let arrivalWall = Number.NaN;
  let clockAtArrival = Number.NEGATIVE_INFINITY;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let raised = 0;
  let updated = 0;
  let out = new Map<string, Alert>();
  let forward: MatchMessage[] = [];
  // Set while a rebuild replays matches: state is fed, nothing is counted as raised.
  let replaying = false;

  function emit({ alert, isNew }: Raised, ingestTime: unknown): void {
    if (replaying) return;
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
      // One id per report (window, newest event, count): a hit re-derived by a replay or a rebuild
      // has the same id, so the parent counts it once (correlator dedupe).
      const eventId = stableId(def.id, hit.group.join('\u0000'), hit.window_start, hit.last_seen, hit.count);
      for (const consumer of parents) {
        const m = matchFromHit(consumer, def, hit.group, hit.last_seen, eventId);
        if (!m) continue;
        if (local && !local.has(consumer)) {
          const msg: CorrelationMatchMessage = {
            type: 'correlation',
            match: m,
            origin: def.id,
            derived: true,
          };
          if (typeof ingestTime === 'number') msg.ingest_time = ingestTime;
          forward.push(msg);
        } else onHits(consumer.correlator.ingest(m, Number.NEGATIVE_INFINITY), ingestTime);
      }
    }
  }

  function sweep(watermark: number, force: boolean): void {
    lastSweep = watermark;
    // Eager windows keep what the slowest partition that may still deliver can add to (an idle one
    // coming back behind the clock); at-close windows are decided by the watermark.
    const floor = clocks.floor(now(), holdMs) - lateness;
    const keepFrom = Math.min(floor, watermark);
    plan.correlators.forEach((c, i) => {
      if (!force && watermark - sweptAt[i] < sweepEvery[i]) return;
      sweptAt[i] = watermark;
      onHits(c.sweep(c.eager ? keepFrom : watermark), undefined);
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
    plan,
    clocks,
    lateness,
    standalone,
    counts,
    byId,
    now,
    /** A single-event rule's alert. */
    eventAlert(rule: RuleInfo, env: Envelope, t: number, ingestTime: unknown): void {
      emit(alerts.fromEvent(rule, env, t), ingestTime);
    },
    ingest(correlator: Correlator, m: CorrelationMatch, watermark: number, ingestTime: unknown): void {
      onHits(correlator.ingest(m, watermark), ingestTime);
    },
    /**
     * The lateness bound for a match from `partition` when the combined clock is `clock`: an eager
     * correlation judges it against its own partition's clock when that is behind (a partition back
     * from idleness, a replay after a crash or an outage), so it is late only within its own stream;
     * an at-close one against the watermark (its windows may be decided already).
     */
    watermarkFor(correlator: Correlator, partition: string, clock: number): number {
      if (!correlator.eager) return clock - lateness;
      const own = clocks.of(partition);
      return Math.min(own, clock) - lateness;
    },
    /** Feeds a replay: windows, chains and suppression state, no alert or forward handed out. */
    replay(run: () => void): void {
      replaying = true;
      try {
        run();
      } finally {
        replaying = false;
        alerts.seal();
        out = new Map();
        forward = [];
      }
    },
    rebuildHorizonMs,
    assignPartitions(partitions: readonly string[]): void {
      clocks.assign(partitions, now());
    },
    afterBatch(n: number, wall: number): Alert[] {
      const clock = clocks.clock();
      if (n > 0) {
        arrivalWall = wall;
        clockAtArrival = clock;
      }
      const watermark = clock - lateness;
      if (watermark - lastSweep >= MIN_SWEEP_INTERVAL_MS) sweep(watermark, false);
      return drain();
    },
    advance(nowMs?: number): Alert[] {
      if (nowMs === undefined) {
        sweep(Number.POSITIVE_INFINITY, true);
        lastSweep = clocks.clock() - lateness;
      } else if (!Number.isNaN(arrivalWall)) {
        clocks.raise(clockAtArrival + Math.max(0, nowMs - arrivalWall));
        sweep(clocks.clock() - lateness, true);
      }
      return drain();
    },
    takeForward(): MatchMessage[] {
      const list = forward;
      forward = [];
      return list;
    },
    /** Correlations fed by child hits re-published on the matches topic (not decided locally). */
    rechainedIds(): ReadonlySet<string> {
      const ids = new Set<string>();
      if (!local) return ids;
      for (const [refId, list] of plan.consumers)
        if (byId.has(refId)) for (const c of list) if (!local.has(c)) ids.add(c.correlator.def.id);
      return ids;
    },
    alertingRuleIds(): ReadonlySet<string> {
      const ids = new Set(standalone);
      for (const [id, alerting] of correlationsAlert) if (alerting) ids.add(id);
      return ids;
    },
    stats(): DetectorStats {
      let lateDropped = 0;
      let duplicates = 0;
      let evictions = 0;
      let groups = 0;
      for (const c of plan.correlators) {
        const s = c.stats();
        lateDropped += s.lateDropped;
        duplicates += s.duplicates;
        evictions += s.evictions;
        groups += s.groups;
      }
      return {
        events: counts.events,
        ruleMatches: counts.ruleMatches,
        alertsRaised: raised,
        alertsUpdated: updated,
        lateDropped,
        duplicates: duplicates + (counts.replayed ?? 0),
        evictions,
        groups,
        openAlerts: alerts.openAlerts(),
        watermark: clocks.clock() - lateness,
        problems: plan.problems,
      };
    },
  };
}

/**
 * The in-process detector: both halves composed per event, no messages in between (the CLI, the
 * bench, `rules test`). `process(events, { partition })` keeps one event clock per input partition.
 */
export function createDetector(options: DetectorOptions): Detector {
  const plan = compile(options);
  const core = createCore(options, plan, false);
  const { counts, clocks, lateness, standalone, now } = core;
  const { telemetry } = options;
  const matcher = options.matcher ?? linearMatcher(options.ruleSet.rules);

  /** `emitTo` set: matches for correlations are handed out (extract) instead of ingested. */
  function processOne(env: Envelope, part: string, wall: number, emitTo: CorrelationMatch[] | null): void {
    counts.events++;
    const t = eventTimeOf(env, wall);
    const clock = clocks.observe(part, t, wall);
    const matched = matcher.match(env);
    for (let i = 0; i < matched.length; i++) {
      const rule = matched[i];
      counts.ruleMatches++;
      telemetry?.ruleMatches.inc({ rule: rule.id });
      if (standalone.has(rule.id)) core.eventAlert(rule, env, t, env.normalized.ingest_time);
      const consumers = plan.consumers.get(rule.id);
      if (!consumers) continue;
      for (const consumer of consumers) {
        const m = matchFromEvent(consumer, env, t);
        if (!m) continue;
        if (emitTo) emitTo.push(m);
        else {
          const watermark = core.watermarkFor(consumer.correlator, part, clock);
          core.ingest(consumer.correlator, m, watermark, env.normalized.ingest_time);
        }
      }
    }
  }

  function run(batch: readonly Envelope[], part: string, emitTo: CorrelationMatch[] | null): Alert[] {
    const wall = now();
    clocks.expireIdle(wall);
    for (let i = 0; i < batch.length; i++) processOne(batch[i], part, wall, emitTo);
    return core.afterBatch(batch.length, wall);
  }

  return {
    process(batch, opts) {
      return run(batch, opts?.partition ?? '', null);
    },
    extract(batch) {
      const matches: CorrelationMatch[] = [];
      return { alerts: run(batch, '', matches), matches };
    },
    ingestMatches(matches) {
      const wall = now();
      for (let i = 0; i < matches.length; i++) {
        const m = matches[i];
        const correlator = core.byId.get(m.correlation_id);
        const clock = clocks.observe('', m.event_time, wall);
        if (correlator) core.ingest(correlator, m, clock - lateness, undefined);
      }
      return core.afterBatch(matches.length, wall);
    },
    advance: core.advance,
    assignPartitions: core.assignPartitions,
    alertingRuleIds: core.alertingRuleIds,
    stats: core.stats,
  };
}

/** The stateless half (process role): events → match messages, to be re-keyed by `messageKey`. */
export interface EventMatcher {
  /**
   * Messages for events read from input partition `origin` (`topic:partition`), appended to `out`.
   * `offsets[i]`, when given, is the input offset `events[i]` was read from: the messages then
   * carry a seq (matches.ts) that lets the correlate side count a replayed match once.
   */
  matchEvents(
    events: readonly Envelope[],
    origin: string,
    out?: MatchMessage[],
    offsets?: readonly number[],
  ): MatchMessage[];
  stats(): { events: number; ruleMatches: number };
}

export function createEventMatcher(options: DetectorOptions): EventMatcher {
  const plan = compile(options);
  const { telemetry } = options;
  const now = options.now ?? Date.now;
  const matcher = options.matcher ?? linearMatcher(options.ruleSet.rules);
  const standalone = standaloneRules(options.ruleSet.rules, plan);
  // Event clock per input partition: travels with each message so the correlate side can hold one
  // clock per origin (non-matching events move it too).
  const originClock = new Map<string, number>();
  const counts: Counts = { events: 0, ruleMatches: 0 };

  return {
    matchEvents(events, origin, out = [], offsets) {
      const wall = now();
      let clock = originClock.get(origin) ?? Number.NEGATIVE_INFINITY;
      let seqOffset = -1;
      let ordinal = 0;
      /** Sets the message's seq: its input offset and its ordinal among that offset's matches. */
      const sequence = (msg: MatchMessage, offset: number | undefined): MatchMessage => {
        if (offset === undefined) return msg;
        if (offset !== seqOffset) {
          seqOffset = offset;
          ordinal = 0;
        }
        if (ordinal < MATCH_SEQ_SPAN) msg.seq = offset * MATCH_SEQ_SPAN + ordinal++;
        return msg;
      };
      for (let e = 0; e < events.length; e++) {
        const env = events[e];
        counts.events++;
        const t = eventTimeOf(env, wall);
        if (t > clock) clock = t;
        const matched = matcher.match(env);
        if (matched.length === 0) continue;
        const offset = offsets?.[e];
        const ingest = env.normalized.ingest_time;
        for (let i = 0; i < matched.length; i++) {
          const rule = matched[i];
          counts.ruleMatches++;
          telemetry?.ruleMatches.inc({ rule: rule.id });
          if (standalone.has(rule.id)) {
            const msg: EventMatchMessage = {
              type: 'event',
              rule_id: rule.id,
              event_id: env.id,
              event_time: t,
              origin,
              clock,
              group: singleEventGroup(env),
              source: env.source,
              log_type: env.log_type,
            };
            if (typeof ingest === 'number') msg.ingest_time = ingest;
            out.push(sequence(msg, offset));
          }
          const consumers = plan.consumers.get(rule.id);
          if (!consumers) continue;
          for (const consumer of consumers) {
            const m = matchFromEvent(consumer, env, t);
            if (!m) continue;
            const msg: CorrelationMatchMessage = { type: 'correlation', match: m, origin, clock };
            if (typeof ingest === 'number') msg.ingest_time = ingest;
            out.push(sequence(msg, offset));
          }
        }
      }
      originClock.set(origin, clock);
      return out;
    },
    stats() {
      return { ...counts };
    },
  };
}

/** Alerts, and chain hits to re-publish to the matches topic (keyed by `messageKey`). */
export interface CorrelationOutput {
  alerts: Alert[];
  forward: MatchMessage[];
}

/**
 * The stateful half (correlate role): match messages of the groups this worker owns → correlation
 * windows, suppression, chains → alerts. One event clock per message origin (the input partition
 * the event was read from): the watermark is the minimum over the origins that are not idle.
 */
export interface CorrelationState {
  /**
   * `channel`: the matches partition the messages were read from. Each origin's clock then counts
   * per channel (`origin@channel`): an origin's messages are in order within one matches partition
   * only, and a member reads its partitions at different paces, so one origin's clock read from a
   * fast partition must not make the same origin's older matches in a slow partition late (Flink
   * keeps one watermark per input channel for the same reason).
   */
  correlateMatches(messages: readonly MatchMessage[], channel?: string): CorrelationOutput;
  /**
   * Replays messages consumed before (a rebuild after a takeover or a restart): they feed the
   * windows, chains and suppression state, and nothing is emitted — those alerts were written
   * before the commit, and what is re-derived later keeps its deterministic id. Origin clocks move
   * on with them; matches are not judged late (a rebuild replays what was accepted before).
   */
  rebuild(messages: readonly MatchMessage[], channel?: string): void;
  /** Event time a rebuild must replay behind the origins' clocks: lateness + longest timespan + suppression. */
  rebuildHorizonMs(): number;
  /** As Detector.advance: idle advance by wall time, or (no argument) end of input. */
  advance(nowMs?: number): CorrelationOutput;
  /** The origins (input partitions of the process role) whose clocks hold the watermark; see Detector. */
  assignPartitions(partitions: readonly string[]): void;
  stats(): DetectorStats;
  alertingRuleIds(): ReadonlySet<string>;
  /**
   * Correlations whose child hits reach them re-published on the matches topic (localChains): when
   * those hits arrive depends on timing, so their anchor (alert id) is not a pure function of the
   * input (docs/detection.md).
   */
  rechainedIds(): ReadonlySet<string>;
}

export function createCorrelationState(options: DetectorOptions): CorrelationState {
  const plan = compile(options);
  const core = createCore(options, plan, true);
  const { counts, clocks, now } = core;
  const rules = new Map<string, RuleInfo>(options.ruleSet.rules.map((r) => [r.id, r]));

  /** The last seq seen per origin and matches partition (`origin@channel`): replays count once. */
  const lastSeq = new Map<string, number>();

  function one(msg: MatchMessage, wall: number, replay: boolean, channel: string | undefined): void {
    counts.events++;
    if (msg.type === 'correlation' && msg.derived) {
      const correlator = core.byId.get(msg.match.correlation_id);
      if (correlator) core.ingest(correlator, msg.match, Number.NEGATIVE_INFINITY, msg.ingest_time);
      return;
    }
    const source = channel === undefined ? msg.origin : `${msg.origin}@${channel}`;
    if (msg.seq !== undefined) {
      // One origin's matches are in seq order within one matches partition; a replayed input
      // re-sends seqs already seen there.
      const last = lastSeq.get(source);
      if (last !== undefined && msg.seq <= last) {
        counts.replayed = (counts.replayed ?? 0) + 1;
        return;
      }
      lastSeq.set(source, msg.seq);
    }
    const eventTime = msg.type === 'event' ? msg.event_time : msg.match.event_time;
    const clock = clocks.observe(source, msg.clock ?? eventTime, wall);
    if (msg.type === 'event') {
      const rule = rules.get(msg.rule_id);
      if (rule) core.eventAlert(rule, eventView(msg), msg.event_time, msg.ingest_time);
      return;
    }
    const correlator = core.byId.get(msg.match.correlation_id);
    if (!correlator) return;
    const watermark = replay ? Number.NEGATIVE_INFINITY : core.watermarkFor(correlator, source, clock);
    core.ingest(correlator, msg.match, watermark, msg.ingest_time);
  }

  return {
    correlateMatches(messages, channel) {
      const wall = now();
      clocks.expireIdle(wall);
      for (let i = 0; i < messages.length; i++) one(messages[i], wall, false, channel);
      return { alerts: core.afterBatch(messages.length, wall), forward: core.takeForward() };
    },
    rebuild(messages, channel) {
      const wall = now();
      core.replay(() => {
        for (let i = 0; i < messages.length; i++) one(messages[i], wall, true, channel);
      });
    },
    rebuildHorizonMs: () => core.rebuildHorizonMs,
    advance(nowMs) {
      return { alerts: core.advance(nowMs), forward: core.takeForward() };
    },
    assignPartitions: core.assignPartitions,
    stats: core.stats,
    alertingRuleIds: core.alertingRuleIds,
    rechainedIds: core.rechainedIds,
  };
}
