import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeSchema, topicsSchema } from '../../src/config/schema.ts';
import type { Envelope, Fields } from '../../src/core/envelope.ts';
import { createRouter } from '../../src/normalize/route.ts';

const topics = topicsSchema.parse({});
const env = (source: string, log_type: string, normalized: Fields): Envelope => ({
  id: 'i',
  source,
  log_type,
  raw: {},
  normalized,
  enriched: {},
});

describe('router', () => {
  const route = createRouter([], topics);
  it('routes by event_class with the entity key', () => {
    assert.deepEqual(route(env('zeek', 'conn', { event_class: 'network', src_ip: '10.0.0.1' })), {
      topic: 'events.network',
      key: '10.0.0.1',
    });
    assert.deepEqual(
      route(env('zeek', 'dns', { event_class: 'dns', src_ip: '10.0.0.1' })).topic,
      'events.network',
    );
    assert.deepEqual(route(env('sshd', 'auth', { event_class: 'auth', user: 'root', src_ip: '1.2.3.4' })), {
      topic: 'events.auth',
      key: 'root',
    });
    assert.deepEqual(route(env('sshd', 'auth', { event_class: 'auth', src_ip: '1.2.3.4' })), {
      topic: 'events.auth',
      key: '1.2.3.4',
    });
    assert.deepEqual(route(env('nginx', 'access', { event_class: 'web', src_ip: '5.6.7.8' })), {
      topic: 'events.web',
      key: '5.6.7.8',
    });
    assert.deepEqual(route(env('zeek', 'stats', { event_class: 'diagnostic', host: 'zeek' })), {
      topic: 'events.other',
      key: 'zeek',
    });
    assert.deepEqual(route(env('x', 'y', {})), { topic: 'events.other', key: null });
  });
  it('applies config rules first, first match wins, with their own key', () => {
    // The campus seed's topics, by config.
    const campus = createRouter(
      [
        routeSchema.parse({
          match: { event_class: 'alert' },
          topic: 'security_alerts',
          key: ['signature_id', 'src_ip'],
        }),
        routeSchema.parse({ match: { source: 'zeek', log_type: 'conn' }, topic: 'network_flows' }),
        routeSchema.parse({ match: { source: 'zeek' }, topic: 'other_events', key: ['flow_id'] }),
      ],
      topicsSchema.parse({ other: 'other_events' }),
    );
    assert.deepEqual(campus(env('suricata', 'alert', { event_class: 'alert', signature_id: 2013504 })), {
      topic: 'security_alerts',
      key: '2013504',
    });
    assert.deepEqual(campus(env('zeek', 'conn', { event_class: 'network', src_ip: '10.1.1.1' })), {
      topic: 'network_flows',
      key: '10.1.1.1',
    });
    assert.deepEqual(campus(env('zeek', 'dns', { event_class: 'dns', flow_id: 'C1' })), {
      topic: 'other_events',
      key: 'C1',
    });
    assert.deepEqual(campus(env('app', 'app', { event_class: 'application' })).topic, 'other_events');
  });
});
