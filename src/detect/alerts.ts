import type { Envelope } from '../core/envelope.ts';
import { stableId } from '../core/ids.ts';
import { type Alert, LEVELS, type Level } from './alert.ts';
import type { CorrelationHit } from './correlate/correlator.ts';
import type { CorrelationDef } from './correlate/parse.ts';

/**
 * Builds alerts from single-event matches and correlation hits.
 *
 * Ids are deterministic: stableId(rule id, group key, window start), so a replay or a rebuilt
 * correlation state produces the same ids and every alert sink can upsert. Suppression: a detection
 * for the same rule + group within `suppressionMs` (event time) of the open alert's last_seen
 * updates that alert (count, last_seen, event_ids) instead of raising a new one.
 */
export interface RuleInfo {
  id: string;
  title: string;
  level: string;
  tags: readonly string[];
}

export interface AlertBuilderOptions {
  suppressionMs: number;
  /** event_ids kept per alert (the first N). */
  maxEventIds: number;
  /** Open alerts kept for suppression; the least recently updated are forgotten first. */
  maxOpenAlerts: number;
  now: () => number;
}

/** The alert in its latest state and whether this detection opened it (false: suppression updated it). */
export interface Raised {
  alert: Alert;
  isNew: boolean;
}

export interface AlertBuilder {
  fromEvent(rule: RuleInfo, env: Envelope, eventTime: number): Raised;
  fromHit(hit: CorrelationHit): Raised;
  /**
   * Hands out everything raised so far: summaries of updated alerts are written, and any later
   * update works on a copy. Until then an update changes the alert object returned before in place
   * (one object per alert per batch, however many events fold into it).
   */
  seal(): void;
  /** Forgets open alerts whose suppression period ended before the watermark. */
  expire(watermark: number): void;
  openAlerts(): number;
}

/** Single-event alerts group by these normalized fields where present (threat: two threats on one host are two alerts). */
export const SINGLE_EVENT_GROUP_FIELDS = ['host', 'src_ip', 'user', 'threat'] as const;

interface Detection {
  rule: RuleInfo;
  group: Record<string, string>;
  groupKey: string;
  windowStart: number;
  firstSeen: number;
  lastSeen: number;
  added: number;
  eventIds: readonly string[];
  /** Set for correlation hits; single-event detections carry the event's source/log type. */
  hit: CorrelationHit | null;
  origin: string;
}

interface OpenAlert {
  alert: Alert;
  windowStart: number;
  /** The seal generation the alert object belongs to; older objects are handed out, never mutated. */
  gen: number;
  /** The latest detection, for the summary written at seal(). */
  last: Detection;
}

export function toLevel(level: string): Level {
  return (LEVELS as readonly string[]).includes(level) ? (level as Level) : 'medium';
}

function groupText(group: Record<string, string>): string {
  const parts: string[] = [];
  for (const k in group) parts.push(`${k}=${group[k]}`);
  return parts.join(' ');
}

function spanText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** "Title: 12 events for src_ip=10.0.0.5 within 5m" and the like, per correlation type. */
export function describeHit(
  def: CorrelationDef,
  hit: CorrelationHit,
  total: number,
  group: Record<string, string>,
): string {
  const field = def.condition?.field.join('+') ?? '';
  const what = ((): string => {
    switch (def.type) {
      case 'event_count':
        return `${hit.count} events`;
      case 'value_count':
        return `${round(hit.value)} distinct ${field} in ${hit.count} events`;
      case 'value_sum':
        return `sum of ${field} ${round(hit.value)} over ${hit.count} events`;
      case 'value_avg':
        return `average ${field} ${round(hit.value)} over ${hit.count} events`;
      case 'temporal':
        return `${round(hit.value)} of ${def.rules.length} rules (${def.rules.join(', ')})`;
      case 'temporal_ordered':
        return `in order: ${def.rules.join(' → ')}`;
      case 'value_percentile':
        return `percentile ${round(hit.value)}`;
    }
  })();
  const who = groupText(group);
  const tail = total > hit.count ? ` (${total} events while open)` : '';
  return `${def.title}: ${what}${who ? ` for ${who}` : ''} within ${spanText(def.timespanMs)}${tail}`;
}

function summarize(d: Detection, count: number): string {
  if (d.hit) return describeHit(d.hit.def, d.hit, count, d.group);
  const who = groupText(d.group);
  return `${d.rule.title}${who ? `: ${who}` : ''}${count > 1 ? ` (${count} events)` : ''} [${d.origin}]`;
}

export function createAlertBuilder(options: AlertBuilderOptions): AlertBuilder {
  const open = new Map<string, OpenAlert>();
  const dirty = new Set<OpenAlert>();
  let gen = 0;

  function raise(d: Detection): Raised {
    const key = `${d.rule.id}\u0000${d.groupKey}`;
    const prev = open.get(key);
    if (
      prev &&
      (prev.windowStart === d.windowStart ||
        Math.abs(d.lastSeen - prev.alert.last_seen) <= options.suppressionMs)
    ) {
      open.delete(key); // re-insert below: least recently updated first
      open.set(key, prev);
      if (prev.gen !== gen) {
        // Handed out already: outputs may hold it, so this batch works on a copy. A full event_ids
        // list never changes again and is shared.
        const a = prev.alert;
        prev.alert = {
          ...a,
          event_ids: a.event_ids.length < options.maxEventIds ? a.event_ids.slice() : a.event_ids,
        };
        prev.gen = gen;
      }
      const a = prev.alert;
      for (let i = 0; i < d.eventIds.length && a.event_ids.length < options.maxEventIds; i++) {
        a.event_ids.push(d.eventIds[i]);
      }
      a.count += d.added;
      if (d.firstSeen < a.first_seen) a.first_seen = d.firstSeen;
      if (d.lastSeen > a.last_seen) a.last_seen = d.lastSeen;
      prev.last = d;
      dirty.add(prev);
      return { alert: a, isNew: false };
    }
    if (prev) open.delete(key);
    else if (open.size >= options.maxOpenAlerts) {
      const oldest = open.keys().next();
      if (!oldest.done) open.delete(oldest.value);
    }
    const values = Object.values(d.group);
    const alert: Alert = {
      id: stableId(d.rule.id, d.groupKey, d.windowStart),
      rule_id: d.rule.id,
      rule_title: d.rule.title,
      level: toLevel(d.rule.level),
      tags: [...d.rule.tags],
      group: d.group,
      entity: values.length > 0 ? values[0] : null,
      count: d.added,
      first_seen: d.firstSeen,
      last_seen: d.lastSeen,
      event_ids: d.eventIds.slice(0, options.maxEventIds),
      summary: summarize(d, d.added),
      status: 'new',
      assignee: null,
      created_at: options.now(),
    };
    open.set(key, { alert, windowStart: d.windowStart, gen, last: d });
    return { alert, isNew: true };
  }

  return {
    fromEvent(rule, env, eventTime) {
      const group: Record<string, string> = {};
      const keyParts: string[] = [];
      for (const f of SINGLE_EVENT_GROUP_FIELDS) {
        const v = env.normalized[f];
        if (v === undefined || v === null || v === '') continue;
        const s = String(v);
        group[f] = s;
        keyParts.push(`${f}=${s}`);
      }
      return raise({
        rule,
        group,
        groupKey: keyParts.join('\u0000'),
        windowStart: eventTime,
        firstSeen: eventTime,
        lastSeen: eventTime,
        added: 1,
        eventIds: [env.id],
        hit: null,
        origin: `${env.source}/${env.log_type}`,
      });
    },
    fromHit(hit) {
      const def = hit.def;
      const group: Record<string, string> = {};
      for (let i = 0; i < def.groupBy.length; i++) group[def.groupBy[i]] = hit.group[i];
      return raise({
        rule: { id: def.id, title: def.title, level: def.level, tags: def.tags },
        group,
        groupKey: hit.group.join('\u0000'),
        windowStart: hit.window_start,
        firstSeen: hit.first_seen,
        lastSeen: hit.last_seen,
        added: hit.added,
        eventIds: hit.event_ids,
        hit,
        origin: '',
      });
    },
    seal() {
      for (const o of dirty) o.alert.summary = summarize(o.last, o.alert.count);
      dirty.clear();
      gen++;
    },
    expire(watermark) {
      for (const [key, o] of open) {
        if (o.alert.last_seen + options.suppressionMs < watermark) open.delete(key);
      }
    },
    openAlerts() {
      return open.size;
    },
  };
}
