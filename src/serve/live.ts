import type { Envelope } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';

/**
 * The live feed behind GET /api/stream: alerts and a sampled tail of events, each with a sequence
 * number, kept in a ring so a client reconnecting with Last-Event-ID gets what it missed (as long
 * as it is still in the ring).
 */
export type LiveItem =
  | { seq: number; kind: 'alert'; data: Alert }
  | { seq: number; kind: 'event'; data: LiveEvent };

/** The fields of an event the tail shows (not the raw layer). */
export interface LiveEvent {
  id: string;
  source: string;
  log_type: string;
  event_time: unknown;
  src_ip: unknown;
  dst_ip: unknown;
  dst_port: unknown;
  user: unknown;
  /** The host a host-based event (threat, endpoint) is about, when it has no addresses. */
  host: unknown;
  summary: string;
}

export interface LiveFeed {
  publishAlert(alert: Alert): void;
  publishEvents(events: readonly Envelope[]): void;
  /** Items after `seq` still in the ring. */
  since(seq: number): LiveItem[];
  subscribe(listener: (item: LiveItem) => void): () => void;
  lastSeq(): number;
}

export interface LiveFeedOptions {
  capacity?: number;
  /** At most this many events per second go into the tail; the rest are skipped (counted). */
  eventsPerSecond?: number;
  now?: () => number;
}

function summarize(env: Envelope): string {
  const n = env.normalized;
  const parts = [n.event_type, n.dns_query, n.url, n.signature, n.message].filter(
    (v) => typeof v === 'string' && v.length > 0,
  );
  return (parts[0] as string | undefined)?.slice(0, 200) ?? `${env.source} ${env.log_type}`;
}

export function liveEvent(env: Envelope): LiveEvent {
  const n = env.normalized;
  return {
    id: env.id,
    source: env.source,
    log_type: env.log_type,
    event_time: n.event_time,
    src_ip: n.src_ip ?? null,
    dst_ip: n.dst_ip ?? null,
    dst_port: n.dst_port ?? null,
    user: n.user ?? null,
    host: n.host ?? null,
    summary: summarize(env),
  };
}

export function createLiveFeed(options: LiveFeedOptions = {}): LiveFeed {
  const capacity = options.capacity ?? 2000;
  const perSecond = options.eventsPerSecond ?? 20;
  const now = options.now ?? Date.now;
  const ring: LiveItem[] = [];
  const listeners = new Set<(item: LiveItem) => void>();
  let seq = 0;
  let windowStart = 0;
  let inWindow = 0;

  function push(item: LiveItem): void {
    ring.push(item);
    if (ring.length > capacity) ring.shift();
    for (const l of listeners) l(item);
  }

  return {
    publishAlert(alert) {
      push({ seq: ++seq, kind: 'alert', data: alert });
    },
    publishEvents(events) {
      const t = now();
      if (t - windowStart >= 1000) {
        windowStart = t;
        inWindow = 0;
      }
      // Spread the per-second budget over the batch instead of taking its head.
      const room = perSecond - inWindow;
      if (room <= 0 || events.length === 0) return;
      const step = Math.max(1, Math.floor(events.length / room));
      for (let i = 0; i < events.length && inWindow < perSecond; i += step) {
        inWindow++;
        push({ seq: ++seq, kind: 'event', data: liveEvent(events[i]) });
      }
    },
    since(after) {
      return ring.filter((i) => i.seq > after);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lastSeq: () => seq,
  };
}
