import { type CorrelationDef, conditionHolds, isMonotone } from './parse.ts';

/**
 * The windowed state of one correlation rule, fed with matches.
 *
 * A match is the unit the distributed mode re-keys by `correlation_id + group` (ARCHITECTURE.md):
 * the process role extracts the group values and the aggregated value from the event, the correlate
 * role only ever sees matches. State is a pure function of the match sequence and the watermarks
 * handed in, so a worker rebuilds its windows by replaying matches.
 *
 * Windows run on event time:
 * - eager (lower-bound conditions: gt/gte, and temporal / temporal_ordered): a sliding window of
 *   `timespan` ending at the group's newest event time, inclusive at both ends (an event exactly
 *   `timespan` older than the newest still counts). The correlation fires as soon as the condition
 *   holds and keeps reporting each further event while it holds, under the same window anchor.
 * - at close (any upper bound, eq, neq, value_avg, value_percentile): a window opened by a group's
 *   first event, [start, start + timespan], decided once the watermark passes its end.
 * Matches older than the watermark (max event time seen − allowed lateness) are dropped and counted.
 */
export interface CorrelationMatch {
  correlation_id: string;
  /** Canonical id of the referenced rule or correlation that matched. */
  rule_id: string;
  /** Group-by values, in the correlation's group-by order. */
  group: string[];
  event_time: number;
  event_id: string;
  /** value_count: the field value(s) (joined); value_sum / value_avg: the number. */
  value?: string | number;
}

/** The bus key of a match: correlation + group, so one group's window lives on one partition. */
export function matchKey(m: CorrelationMatch): string {
  return `${m.correlation_id}\u0000${m.group.join('\u0000')}`;
}

export interface CorrelationHit {
  def: CorrelationDef;
  group: string[];
  /** Event time that anchors the window; part of the alert id. */
  window_start: number;
  first_seen: number;
  last_seen: number;
  /** Events in the window when it fired. */
  count: number;
  /** Events this hit adds to what earlier hits of the same anchor reported. */
  added: number;
  /** Ids of the events this hit adds (capped). */
  event_ids: string[];
  /** The aggregate compared with the condition (count, distinct values, sum, average, rules seen). */
  value: number;
}

export interface CorrelatorOptions {
  /** Canonical ids parallel to def.rules (names resolved), see plan.ts. */
  refIds: string[];
  maxGroups: number;
  maxEventIds: number;
}

export interface CorrelatorStats {
  groups: number;
  evictions: number;
  lateDropped: number;
  /** Matches already in their group's window (same event id and rule), ignored. */
  duplicates: number;
}

export interface Correlator {
  readonly def: CorrelationDef;
  /** Decided on arrival (lower-bound conditions): a window never closes, a late match can only add. */
  readonly eager: boolean;
  ingest(match: CorrelationMatch, watermark: number): CorrelationHit[];
  /** Closes windows the watermark has passed and drops expired groups. */
  sweep(watermark: number): CorrelationHit[];
  stats(): CorrelatorStats;
  /** Evictions since the last call (for the telemetry counter). */
  takeEvictions(): number;
}

interface Entry {
  t: number;
  id: string;
  pos: number;
  value: string | number | undefined;
}

interface GroupState {
  group: string[];
  /**
   * Sorted by event time. Entries before `keep` are dropped; entries in [keep, head) are out of the
   * current window but kept (eager mode) for a match that arrives behind it (see ingestBehind);
   * the window is entries[head..].
   */
  entries: Entry[];
  keep: number;
  head: number;
  newest: number;
  /** at-close mode: start of the open window. */
  start: number;
  /** eager mode: anchor of the current firing streak, or NaN when not firing. */
  anchor: number;
  /** Incremental aggregates over entries[head..]. */
  sum: number;
  numeric: number;
  distinct: Map<string, number>;
  perPos: number[];
}

const EMPTY: CorrelationHit[] = [];
/** Entries replayed at most around a match that arrives behind its group's window (twice). */
const MAX_BEHIND_REPLAY = 512;
/** Entries kept behind a group's window at most, between sweeps. */
const MAX_KEPT_BEHIND = 4096;

/** One firing streak found by replaying a group's entries: its first and latest hits. */
interface Streak {
  first: CorrelationHit;
  last: CorrelationHit;
  steps: number;
}

/**
 * A copy of a string that does not share the input line it was cut from. V8 keeps substrings as
 * slices of their parent, so a group key taken from a parsed field would keep the whole log line
 * alive for as long as the group lives; state bounded by groups must not hold lines. Called once
 * per new group or new distinct value, not per event.
 */
function ownString(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** First index in [from, entries.length) whose time is ≥ t (> t with `after`). */
function bound(entries: readonly Entry[], from: number, t: number, after: boolean): number {
  let lo = from;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].t < t || (after && entries[mid].t === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function createCorrelator(def: CorrelationDef, options: CorrelatorOptions): Correlator {
  const spanMs = def.timespanMs;
  const nRefs = def.rules.length;
  const ordered = def.type === 'temporal_ordered';
  const temporal = def.type === 'temporal' || ordered;
  const criteria = def.condition?.criteria;
  const eager = temporal || (criteria !== undefined && isMonotone(criteria) && def.type !== 'value_avg');
  // rule id → positions in def.rules (a rule may be listed twice in an ordered chain).
  const positions = new Map<string, number[]>();
  options.refIds.forEach((id, pos) => {
    const list = positions.get(id);
    if (list) list.push(pos);
    else positions.set(id, [pos]);
  });
  const groups = new Map<string, GroupState>();
  let evictions = 0;
  let pendingEvictions = 0;
  let lateDropped = 0;
  let duplicates = 0;

  function newGroup(group: string[], t: number): GroupState {
    return {
      group,
      entries: [],
      keep: 0,
      head: 0,
      newest: t,
      start: t,
      anchor: Number.NaN,
      sum: 0,
      numeric: 0,
      distinct: new Map(),
      perPos: new Array(nRefs).fill(0),
    };
  }

  const multiRule = positions.size > 1;
  /**
   * A match is identified by its event id (deterministic: the input position) and, when several
   * rules feed this correlation, the rule: one event matching two referenced rules counts twice,
   * the same match delivered twice (a process-role replay after a crash, a chain hit re-published
   * again, a rebuild overlapping live state) counts once. A copy has the same event time, so only
   * the window's entries at that time are compared (none on the in-order path); no set of ids is
   * kept per group.
   */
  function isDuplicate(g: GroupState, t: number, id: string, ruleId: string): boolean {
    const { entries } = g;
    if (entries.length === g.keep || entries[entries.length - 1].t < t) return false;
    for (let i = bound(entries, g.keep, t, false); i < entries.length && entries[i].t === t; i++) {
      const e = entries[i];
      if (e.id === id && (!multiRule || options.refIds[e.pos] === ruleId)) return true;
    }
    return false;
  }

  function add(g: GroupState, e: Entry): void {
    // Binary insertion keeps entries sorted when a late (but accepted) match arrives; equal times
    // keep arrival order.
    const { entries } = g;
    if (entries.length === g.head || entries[entries.length - 1].t <= e.t) entries.push(e);
    else entries.splice(bound(entries, g.head, e.t, true), 0, e);
    account(g, e, 1);
  }

  function account(g: GroupState, e: Entry, sign: 1 | -1): void {
    g.perPos[e.pos] += sign;
    const v = e.value;
    if (v === undefined) return;
    if (typeof v === 'number') {
      g.sum += sign * v;
      g.numeric += sign;
    } else {
      const c = (g.distinct.get(v) ?? 0) + sign;
      if (c === 0) g.distinct.delete(v);
      else if (c === 1) g.distinct.set(ownString(v), c);
      else g.distinct.set(v, c);
    }
  }

  function pruneBefore(g: GroupState, minT: number): void {
    const { entries } = g;
    while (g.head < entries.length && entries[g.head].t < minT) {
      account(g, entries[g.head], -1);
      g.head++;
    }
    compact(g);
  }

  /** Drops what is kept behind the window too (eager sweep): nothing before `minT` can count again. */
  function dropBefore(g: GroupState, minT: number): void {
    pruneBefore(g, minT);
    const { entries } = g;
    while (g.keep < g.head && entries[g.keep].t < minT) g.keep++;
    compact(g);
  }

  /** Compacts now and then so the array does not grow without bound. */
  function compact(g: GroupState): void {
    if (g.keep > 64 && g.keep * 2 > g.entries.length) {
      g.entries = g.entries.slice(g.keep);
      g.head -= g.keep;
      g.keep = 0;
    }
  }

  function size(g: GroupState): number {
    return g.entries.length - g.head;
  }

  function aggregate(g: GroupState): number {
    switch (def.type) {
      case 'event_count':
        return size(g);
      case 'value_count':
        return g.distinct.size;
      case 'value_sum':
        return g.sum;
      case 'value_avg':
        return g.numeric === 0 ? Number.NaN : g.sum / g.numeric;
      case 'temporal':
      case 'temporal_ordered': {
        let seen = 0;
        for (let i = 0; i < nRefs; i++) if (g.perPos[i] > 0) seen++;
        return seen;
      }
      case 'value_percentile':
        return Number.NaN;
    }
  }

  /**
   * temporal_ordered: start time of the EARLIEST chain rules[0] ≤ … ≤ rules[n-1] inside the window,
   * or NaN. Greedy leftmost matching finds a chain whenever one exists, and its start is the first
   * rules[0] entry, as the other eager correlations anchor at the window's first entry. The anchor
   * then does not depend on whether later rules[0] entries arrived before the chain completed: a
   * re-published chain hit that reaches its parent after the rule it must precede (distributed
   * mode) anchors where the in-process detector does, so the alert id is the same.
   */
  function orderedChainStart(g: GroupState): number {
    // Cheap necessary condition first: every position has an entry in the window. Without it the
    // scan would run over the whole window on every match.
    for (let i = 0; i < nRefs; i++) if (g.perPos[i] === 0) return Number.NaN;
    const { entries } = g;
    let want = 0;
    let start = Number.NaN;
    // A rule listed twice ([a, a, b]) needs two different events: one event's entries at two
    // positions cannot both fill the chain.
    let usedId = '';
    for (let i = g.head; i < entries.length; i++) {
      const e = entries[i];
      if (e.pos === want && e.id !== usedId) {
        if (want === 0) start = e.t;
        if (want === nRefs - 1) return start;
        usedId = e.id;
        want++;
      }
    }
    return Number.NaN;
  }

  function holds(g: GroupState, value: number): boolean {
    if (ordered) {
      if (criteria && !conditionHolds(criteria, value)) return false;
      return !Number.isNaN(orderedChainStart(g));
    }
    if (temporal && !criteria) return value === nRefs;
    return criteria !== undefined && !Number.isNaN(value) && conditionHolds(criteria, value);
  }

  function hit(g: GroupState, windowStart: number, value: number, added: Entry[]): CorrelationHit {
    const ids: string[] = [];
    for (let i = 0; i < added.length && ids.length < options.maxEventIds; i++) ids.push(added[i].id);
    return {
      def,
      group: g.group,
      window_start: windowStart,
      first_seen: g.entries[g.head]?.t ?? windowStart,
      last_seen: g.newest,
      count: size(g),
      added: added.length,
      event_ids: ids,
      value,
    };
  }

  function windowEntries(g: GroupState): Entry[] {
    return g.head === 0 ? g.entries : g.entries.slice(g.head);
  }

  function ingestEager(g: GroupState, e: Entry): CorrelationHit[] {
    if (g.entries.length > g.keep && e.t < g.newest - spanMs) return ingestBehind(g, e);
    return ingestInWindow(g, e);
  }

  /** The in-order path: the window ends at the group's newest match and slides with it. */
  function ingestInWindow(g: GroupState, e: Entry): CorrelationHit[] {
    add(g, e);
    if (e.t > g.newest) g.newest = e.t;
    pruneBefore(g, g.newest - spanMs);
    if (g.head - g.keep > MAX_KEPT_BEHIND) {
      g.keep = g.head - MAX_KEPT_BEHIND;
      compact(g);
    }
    if (size(g) === 0) return EMPTY; // a late entry already outside the window
    const value = aggregate(g);
    if (!holds(g, value)) {
      g.anchor = Number.NaN;
      return EMPTY;
    }
    if (Number.isNaN(g.anchor)) {
      g.anchor = ordered ? orderedChainStart(g) : g.entries[g.head].t;
      return [hit(g, g.anchor, value, windowEntries(g))];
    }
    return [hit(g, g.anchor, value, [e])];
  }

  /**
   * The streaks an in-order run finds among entries[from, to) with `skip` left out: per anchor, the
   * hits of the steps whose window holds `subject` (its time is within a timespan before them).
   */
  function streaks(
    g: GroupState,
    from: number,
    to: number,
    skip: Entry | null,
    subject: Entry,
  ): Map<number, Streak> {
    const out = new Map<number, Streak>();
    const replay = newGroup(g.group, g.entries[from].t);
    for (let i = from; i < to; i++) {
      const x = g.entries[i];
      if (x === skip) continue;
      const hits = ingestInWindow(replay, x);
      if (hits.length === 0 || x.t < subject.t || x.t - spanMs > subject.t) continue;
      const h = hits[hits.length - 1];
      const s = out.get(h.window_start);
      if (s) {
        s.last = h;
        s.steps++;
      } else out.set(h.window_start, { first: h, last: h, steps: 1 });
    }
    return out;
  }

  /**
   * A match older than its group's window (it came from a partition that lags behind the others:
   * a replay after a crash, a backlog) is not lost: it is put in place among the kept entries, and
   * the windows an in-order run would have evaluated around it — ending at each entry up to a
   * timespan after it — are evaluated again, with and without it. A streak that holds only with it
   * is raised as the in-order run raises it (anchored at its window's first entry, so with the same
   * alert id); a streak that held already is updated with this one event. How far this looks back
   * is bounded by what the sweep keeps: the slowest partition with data, minus the timespan.
   */
  function ingestBehind(g: GroupState, e: Entry): CorrelationHit[] {
    const { entries } = g;
    const at = bound(entries, g.keep, e.t, true);
    entries.splice(at, 0, e);
    g.head++; // e is before the window: every window entry is newer than newest − timespan > e.t
    let from = bound(entries, g.keep, e.t - 2 * spanMs, false);
    let to = bound(entries, at, e.t + spanMs, true);
    if (to - from > MAX_BEHIND_REPLAY) {
      from = Math.max(from, at - MAX_BEHIND_REPLAY / 2);
      to = Math.min(to, from + MAX_BEHIND_REPLAY);
    }
    const withIt = streaks(g, from, to, null, e);
    if (withIt.size === 0) return EMPTY;
    const without = from + 1 < to ? streaks(g, from, to, e, e) : new Map();
    const out: CorrelationHit[] = [];
    for (const [anchor, s] of withIt) {
      if (without.has(anchor)) {
        out.push({ ...s.last, added: 1, event_ids: [e.id] });
      } else {
        // New with this match: reported as an in-order run reports it, once, at its latest state.
        const ids = s.first.event_ids.slice(0, options.maxEventIds);
        out.push({ ...s.last, added: s.first.added + s.steps - 1, event_ids: ids });
      }
    }
    return out;
  }

  function closeWindow(g: GroupState): CorrelationHit[] {
    if (size(g) === 0) return EMPTY;
    const value = aggregate(g);
    return holds(g, value) ? [hit(g, g.start, value, windowEntries(g))] : EMPTY;
  }

  function resetWindow(g: GroupState, t: number): void {
    g.entries = [];
    g.keep = 0;
    g.head = 0;
    g.sum = 0;
    g.numeric = 0;
    g.distinct.clear();
    g.perPos.fill(0);
    g.start = t;
    g.newest = t;
  }

  function ingestAtClose(g: GroupState, e: Entry): CorrelationHit[] {
    let out = EMPTY;
    if (size(g) > 0 && e.t > g.start + spanMs) {
      out = closeWindow(g);
      resetWindow(g, e.t);
    } else if (size(g) === 0) {
      g.start = e.t;
    }
    add(g, e);
    if (e.t > g.newest) g.newest = e.t;
    return out;
  }

  function evictOldest(): void {
    const oldest = groups.keys().next();
    if (oldest.done) return;
    groups.delete(oldest.value);
    evictions++;
    pendingEvictions++;
  }

  return {
    def,
    eager,
    ingest(match, watermark) {
      if (match.event_time < watermark) {
        lateDropped++;
        return EMPTY;
      }
      const pos = positions.get(match.rule_id);
      if (!pos) return EMPTY;
      const key = match.group.length === 1 ? match.group[0] : match.group.join('\u0000');
      let g = groups.get(key);
      if (g) {
        // Re-insert: Map order then is least-recently-updated first, which eviction relies on.
        groups.delete(key);
        groups.set(key, g);
      } else {
        if (groups.size >= options.maxGroups) evictOldest();
        g = newGroup(match.group.map(ownString), match.event_time);
        groups.set(ownString(key), g);
      }
      if (isDuplicate(g, match.event_time, match.event_id, match.rule_id)) {
        duplicates++;
        return EMPTY;
      }
      let out: CorrelationHit[] = EMPTY;
      for (const p of pos) {
        const e: Entry = { t: match.event_time, id: match.event_id, pos: p, value: match.value };
        const hits = eager ? ingestEager(g, e) : ingestAtClose(g, e);
        if (hits.length > 0) out = out === EMPTY ? hits : out.concat(hits);
      }
      return out;
    },
    sweep(watermark) {
      let out: CorrelationHit[] = EMPTY;
      for (const [key, g] of groups) {
        if (eager) {
          // Every future window ends at or after the watermark: older entries can never count again.
          dropBefore(g, watermark - spanMs);
          if (g.entries.length === g.keep) groups.delete(key);
        } else if (g.start + spanMs < watermark) {
          const hits = closeWindow(g);
          if (hits.length > 0) out = out === EMPTY ? hits : out.concat(hits);
          groups.delete(key);
        }
      }
      return out;
    },
    stats() {
      return { groups: groups.size, evictions, lateDropped, duplicates };
    },
    takeEvictions() {
      const n = pendingEvictions;
      pendingEvictions = 0;
      return n;
    },
  };
}
