import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertLine, clock, healthLine, stoppedLine } from '../../src/cli/demo.ts';
import type { Alert } from '../../src/detect/alert.ts';

const AT = Date.parse('2026-12-07T17:52:57.900Z');

const alert: Alert = {
  id: 'pjCOSTZHLXxDE9TEELJpMX',
  rule_id: 'b0a5d1e2-0000-4000-8000-000000000001',
  rule_title: 'Brute force from one source',
  level: 'high',
  tags: ['attack.t1110.001'],
  group: { src_ip: '203.0.113.1' },
  entity: '203.0.113.1',
  count: 10,
  first_seen: AT - 20_000,
  last_seen: AT,
  event_ids: [],
  summary: 'Brute force from one source: 10 events for src_ip=203.0.113.1 within 5m',
  status: 'new',
  assignee: null,
  created_at: AT,
};

test('terminal times are UTC, named by the Z', () => {
  assert.equal(clock(AT), '17:52:57Z');
});

test('an alert line names the level, rule, entity and summary, and links the alert', () => {
  assert.equal(
    alertLine(alert, 'http://127.0.0.1:8080', AT),
    '17:52:57Z  ALERT HIGH · Brute force from one source · 203.0.113.1 · Brute force from one source: 10 events for src_ip=203.0.113.1 within 5m\n' +
      '           http://127.0.0.1:8080/#/alerts/pjCOSTZHLXxDE9TEELJpMX\n',
  );
  assert.doesNotMatch(alertLine({ ...alert, entity: null }, undefined, AT), /· null|http/);
});

test('the health line gives the rate, totals, alerts, memory and buffers; a blocked sink is shouted', () => {
  const t = {
    eventsIn: 95_123,
    lakeEvents: 94_000,
    alerts: 14,
    eventsPerSecond: 301.4,
    rssMb: 210.2,
    bufferPct: 3.2,
    blocked: [],
  };
  assert.equal(
    healthLine(t, 2, AT),
    '17:52:57Z  health: 301 events/s · 95,123 events in · 94,000 in the lake · 14 alerts (2 new) · rss 210 MB · fullest buffer 3%\n',
  );
  assert.match(healthLine({ ...t, blocked: ['lake'] }, 0, AT), / · BLOCKED: lake \(storage full\?\)\n$/);
});

test('the stopped line says how long it ran and what was flushed', () => {
  assert.equal(
    stoppedLine({ eventsIn: 112_481, lakeEvents: 112_481, alerts: 13 }, 576_400, '.data/demo/lake'),
    'socstream demo: stopped after 9 min 36 s — 112,481 events in, 112,481 flushed to the lake (.data/demo/lake), 13 alerts raised and stored.\n',
  );
  assert.match(stoppedLine({ eventsIn: 0, lakeEvents: 0, alerts: 0 }, 4_000, 'x'), /stopped after 4 s —/);
});
