import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableId } from '../../src/core/ids.ts';
import { createAlertBuilder, SINGLE_EVENT_GROUP_FIELDS } from '../../src/detect/alerts.ts';
import { ev } from './helpers.ts';

const T0 = Date.UTC(2026, 0, 31, 10, 0, 0);
const rule = { id: 'r1', title: 'Endpoint threat, severity high', level: 'high', tags: ['t'] };

function builder(suppressionMs = 300_000) {
  return createAlertBuilder({ suppressionMs, maxEventIds: 3, maxOpenAlerts: 100, now: () => 42 });
}

test('a single-event alert groups by host/src_ip/user/threat where present and has a deterministic id', () => {
  const { alert, isNew } = builder().fromEvent(
    rule,
    ev('e1', T0, 'x', { host: 'endpoint01', threat: 'malware.exe', severity: 'high' }),
    T0,
  );
  assert.equal(isNew, true);
  assert.deepEqual(alert.group, { host: 'endpoint01', threat: 'malware.exe' });
  assert.equal(alert.entity, 'endpoint01');
  assert.equal(alert.id, stableId('r1', 'host=endpoint01\u0000threat=malware.exe', T0));
  assert.equal(alert.level, 'high');
  assert.equal(alert.status, 'new');
  assert.equal(alert.created_at, 42);
  assert.equal(
    alert.summary,
    'Endpoint threat, severity high: host=endpoint01 threat=malware.exe [test/test]',
  );
  assert.deepEqual(SINGLE_EVENT_GROUP_FIELDS, ['host', 'src_ip', 'user', 'threat']);
  // Same input, new builder (a restart, a replay): same id.
  const again = builder().fromEvent(
    rule,
    ev('e1', T0, 'x', { host: 'endpoint01', threat: 'malware.exe' }),
    T0,
  );
  assert.equal(again.alert.id, alert.id);
});

test('suppression: the same rule and group within the period updates count, last_seen and event_ids', () => {
  const b = builder();
  const first = b.fromEvent(rule, ev('e1', T0, 'x', { src_ip: '10.0.0.1' }), T0).alert;
  b.seal(); // handed out: later updates work on a copy
  const second = b.fromEvent(rule, ev('e2', T0 + 300_000, 'x', { src_ip: '10.0.0.1' }), T0 + 300_000);
  b.seal();
  assert.equal(second.isNew, false);
  assert.equal(second.alert.id, first.id);
  assert.equal(second.alert.count, 2);
  assert.equal(second.alert.last_seen, T0 + 300_000);
  assert.deepEqual(second.alert.event_ids, ['e1', 'e2']);
  assert.match(second.alert.summary, /\(2 events\)/);
  assert.equal(first.count, 1, 'the alert handed out earlier is not mutated');
  assert.deepEqual(first.event_ids, ['e1']);
  // Other group: its own alert.
  assert.equal(b.fromEvent(rule, ev('e3', T0 + 1, 'x', { src_ip: '10.0.0.2' }), T0 + 1).isNew, true);
  // Past the period (measured from last_seen): a new alert with a new id.
  const third = b.fromEvent(rule, ev('e4', T0 + 600_001, 'x', { src_ip: '10.0.0.1' }), T0 + 600_001);
  assert.equal(third.isNew, true);
  assert.notEqual(third.alert.id, first.id);
});

test('event_ids are capped; count keeps counting', () => {
  const b = builder();
  let last = b.fromEvent(rule, ev('e0', T0, 'x', { user: 'bob' }), T0).alert;
  for (let i = 1; i < 6; i++)
    last = b.fromEvent(rule, ev(`e${i}`, T0 + i, 'x', { user: 'bob' }), T0 + i).alert;
  b.seal();
  assert.equal(last.count, 6);
  assert.deepEqual(last.event_ids, ['e0', 'e1', 'e2']);
});

test('suppression 0: every detection is its own alert; expire forgets alerts behind the watermark', () => {
  const b = builder(0);
  const a = b.fromEvent(rule, ev('e1', T0, 'x', { user: 'u' }), T0).alert;
  const c = b.fromEvent(rule, ev('e2', T0 + 1, 'x', { user: 'u' }), T0 + 1);
  assert.equal(c.isNew, true);
  assert.notEqual(c.alert.id, a.id);
  assert.equal(b.openAlerts(), 1);
  b.expire(T0 + 2);
  assert.equal(b.openAlerts(), 0);
});

test('an unknown level falls back to medium', () => {
  const { alert } = builder().fromEvent({ ...rule, level: 'severe' }, ev('e', T0, 'x'), T0);
  assert.equal(alert.level, 'medium');
  assert.deepEqual(alert.group, {});
  assert.equal(alert.entity, null);
});

test('within one batch (before seal) updates change the same alert object; seal writes the summary', () => {
  const b = builder();
  const first = b.fromEvent(rule, ev('e1', T0, 'x', { host: 'h' }), T0).alert;
  const again = b.fromEvent(rule, ev('e2', T0 + 1, 'x', { host: 'h' }), T0 + 1).alert;
  assert.equal(again, first);
  assert.equal(first.count, 2);
  assert.doesNotMatch(first.summary, /2 events/);
  b.seal();
  assert.match(first.summary, /\(2 events\)/);
  const third = b.fromEvent(rule, ev('e3', T0 + 2, 'x', { host: 'h' }), T0 + 2).alert;
  assert.notEqual(third, first);
  assert.equal(first.count, 2);
  assert.equal(third.count, 3);
});
