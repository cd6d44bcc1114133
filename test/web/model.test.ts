import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERT_STATUSES } from '../../src/detect/alert.ts';
import { STATUS_TRANSITIONS as STORE_TRANSITIONS } from '../../src/sinks/alert-store.ts';
import {
  applyAlert,
  canTriage,
  eventsPerSecond,
  matchesFilters,
  NO_FILTERS,
  TRANSITIONS,
  toSeries,
} from '../../src/web/model.ts';
import type { Alert } from '../../src/web/types.ts';

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  rule_id: 'ssh-brute',
  rule_title: 'SSH brute force',
  level: 'high',
  tags: [],
  group: {},
  entity: '203.0.113.1',
  count: 10,
  first_seen: 0,
  last_seen: 0,
  event_ids: [],
  summary: '',
  status: 'new',
  assignee: null,
  created_at: 0,
  ...over,
});

test('toSeries aligns every log type on one time axis, 0 where a type has no row', () => {
  const { x, series } = toSeries([
    { t: 20_000, log_type: 'dns', n: 3 },
    { t: 10_000, log_type: 'dns', n: 1 },
    { t: 20_000, log_type: 'conn', n: 5 },
  ]);
  assert.deepEqual(x, [10, 20]);
  assert.deepEqual(series, [
    { name: 'dns', values: [1, 3] },
    { name: 'conn', values: [0, 5] },
  ]);
  assert.deepEqual(toSeries([]), { x: [], series: [] });
});

test('eventsPerSecond leaves out the newest (partial) bucket and averages the complete ones', () => {
  const rows = [
    { t: 0, log_type: 'dns', n: 50 },
    { t: 0, log_type: 'conn', n: 50 },
    { t: 10_000, log_type: 'dns', n: 300 },
    { t: 20_000, log_type: 'dns', n: 7 },
  ];
  assert.equal(eventsPerSecond(rows, 10), (100 + 300) / 20);
  assert.equal(eventsPerSecond([{ t: 0, log_type: 'dns', n: 9 }], 10), 0);
});

test('a live alert joins a list it matches first, replaces its listed copy in place, leaves when it stops matching', () => {
  const list = [alert('a'), alert('b')];
  assert.deepEqual(
    applyAlert(list, alert('c'), NO_FILTERS).map((a) => a.id),
    ['c', 'a', 'b'],
  );
  const acknowledged = applyAlert(list, alert('b', { status: 'acknowledged' }), NO_FILTERS);
  assert.deepEqual(
    acknowledged.map((a) => [a.id, a.status]),
    [
      ['a', 'new'],
      ['b', 'acknowledged'],
    ],
  );
  const onlyNew = { ...NO_FILTERS, status: 'new' };
  assert.deepEqual(
    applyAlert(list, alert('b', { status: 'closed' }), onlyNew).map((a) => a.id),
    ['a'],
  );
  assert.equal(applyAlert(list, alert('z', { level: 'low' }), { ...NO_FILTERS, level: 'high' }), list);
});

test('matchesFilters checks every set filter', () => {
  const a = alert('a');
  assert.equal(matchesFilters(a, NO_FILTERS), true);
  assert.equal(matchesFilters(a, { ...NO_FILTERS, entity: '203.0.113.1', rule_id: 'ssh-brute' }), true);
  assert.equal(matchesFilters(a, { ...NO_FILTERS, entity: '10.0.0.1' }), false);
  assert.equal(matchesFilters(a, { ...NO_FILTERS, level: 'low' }), false);
});

test('triage buttons: only analysts and admins, and only transitions the alert store allows', () => {
  assert.equal(canTriage('viewer'), false);
  assert.equal(canTriage(null), false);
  assert.equal(canTriage('analyst'), true);
  assert.equal(canTriage('admin'), true);
  for (const from of ALERT_STATUSES) {
    for (const { to } of TRANSITIONS[from]) {
      assert.ok(STORE_TRANSITIONS[from].includes(to), `${from} → ${to} is allowed by the store`);
    }
  }
});
