import type { Envelope, Fields } from '../core/envelope.ts';
import type { EventClass } from './fields.ts';
import type { RouteConfig } from './route-schema.ts';

/**
 * Routing normalized events to topics. Config rules (`routes`) come first, first match wins; a
 * rule matches on any of source, log_type and event_class (all given must be equal). Without a
 * matching rule the event_class decides: network-ish classes → topics.network (keyed by src_ip),
 * auth → topics.auth (keyed by user, else src_ip), http/web → topics.web, the rest → topics.other.
 * The key is the entity downstream state groups by, so one entity's events stay in one partition.
 */
export interface Route {
  topic: string;
  key: string | null;
}

type TopicRole = 'network' | 'auth' | 'web' | 'other';

export const CLASS_TOPIC: Readonly<Record<EventClass, TopicRole>> = {
  network: 'network',
  dns: 'network',
  tls: 'network',
  ssh: 'network',
  file: 'network',
  email: 'network',
  alert: 'network',
  auth: 'auth',
  http: 'web',
  web: 'web',
  inventory: 'other',
  diagnostic: 'other',
  application: 'other',
};

export const DEFAULT_KEYS: Readonly<Record<TopicRole, readonly string[]>> = {
  network: ['src_ip'],
  auth: ['user', 'src_ip'],
  web: ['src_ip'],
  other: ['src_ip', 'host'],
};

function keyOf(normalized: Fields, fields: readonly string[]): string | null {
  for (let i = 0; i < fields.length; i++) {
    const v = normalized[fields[i]];
    if (v !== undefined && v !== null && v !== '') return typeof v === 'string' ? v : String(v);
  }
  return null;
}

export function createRouter(
  routes: readonly RouteConfig[],
  topics: { network: string; auth: string; web: string; other: string },
): (env: Envelope) => Route {
  const rules = routes.map((r) => ({
    source: r.match.source,
    logType: r.match.log_type,
    eventClass: r.match.event_class,
    topic: r.topic,
    key: r.key,
  }));
  const defaults = {
    network: { topic: topics.network, key: DEFAULT_KEYS.network },
    auth: { topic: topics.auth, key: DEFAULT_KEYS.auth },
    web: { topic: topics.web, key: DEFAULT_KEYS.web },
    other: { topic: topics.other, key: DEFAULT_KEYS.other },
  } as const;
  return (env) => {
    const n = env.normalized;
    const eventClass = n.event_class;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r.source !== undefined && r.source !== env.source) continue;
      if (r.logType !== undefined && r.logType !== env.log_type) continue;
      if (r.eventClass !== undefined && r.eventClass !== eventClass) continue;
      return { topic: r.topic, key: keyOf(n, r.key) };
    }
    const role = CLASS_TOPIC[eventClass as EventClass] ?? 'other';
    const d = defaults[role];
    return { topic: d.topic, key: keyOf(n, d.key) };
  };
}
