import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERT_STATUSES } from '../../src/detect/alert.ts';
import { STATUS_TRANSITIONS as STORE_TRANSITIONS } from '../../src/sinks/alert-store.ts';
import {
  alertBars,
  applyAlert,
  attackedTargets,
  canTriage,
  entityEventFilter,
  eventHeadline,
  eventsPerSecond,
  filtersFromParams,
  LAKE_LAG_MS,
  matchesFilters,
  mergeLive,
  NO_FILTERS,
  partialBucketStart,
  sortAlerts,
  TRANSITIONS,
  topValues,
  toSeries,
} from '../../src/web/model.ts';
import type { Alert, LiveItem } from '../../src/web/types.ts';

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

test('toSeries aligns every log type on one time axis, 0 where a type has no row, busiest first', () => {
  const { x, series } = toSeries([
    { t: 20_000, log_type: 'dns', n: 3 },
    { t: 10_000, log_type: 'dns', n: 1 },
    { t: 20_000, log_type: 'conn', n: 5 },
  ]);
  assert.deepEqual(x, [10, 20]);
  assert.deepEqual(series, [
    { name: 'conn', values: [0, 5] },
    { name: 'dns', values: [1, 3] },
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

test('the last bucket is marked as filling while it may still be written, not once it is complete', () => {
  const x = [0, 10, 20];
  assert.equal(partialBucketStart(x, 10, 25_000), 20, 'ends after the range end');
  assert.equal(partialBucketStart(x, 10, 30_000 + LAKE_LAG_MS - 1), 20, 'a lake flush may still be due');
  assert.equal(partialBucketStart(x, 10, 30_000 + LAKE_LAG_MS + 1), undefined);
  assert.equal(partialBucketStart([], 10, 0), undefined);
});

test("an event's What: signature, DNS name, HTTP request, message; flows say protocol and direction", () => {
  // Shapes of lake rows of the real formats (Suricata EVE alert, Zeek dns/http/conn/ssl, sshd).
  assert.equal(
    eventHeadline({ log_type: 'alert', signature: 'ET SCAN Potential SSH Scan', event_type: 'alert' }),
    'ET SCAN Potential SSH Scan',
  );
  assert.equal(
    eventHeadline({ log_type: 'dns', dns_query: 'example.com', event_type: 'dns' }),
    'DNS example.com',
  );
  assert.equal(
    eventHeadline({ log_type: 'http', http_method: 'POST', url: '/login', http_status: 401 }),
    'POST /login → 401',
  );
  assert.equal(
    eventHeadline({
      log_type: 'conn',
      event_type: 'conn',
      event_class: 'network',
      protocol: 'tcp',
      direction: 'outbound',
      outcome: 'unknown',
    }),
    'tcp · outbound',
  );
  assert.equal(
    eventHeadline({ log_type: 'ssl', event_type: 'ssl', protocol: 'tcp', direction: 'internal' }),
    'tcp · internal',
  );
  assert.equal(
    eventHeadline({ log_type: 'auth', event_type: 'login_failure', outcome: 'failure' }),
    'login failure · failure',
  );
  assert.equal(eventHeadline({ log_type: 'conn' }), '');
});

test('top values per field, most frequent first, empty fields left out', () => {
  const rows = [
    { src_ip: '203.0.113.1', user: 'root' },
    { src_ip: '203.0.113.1', user: '' },
    { src_ip: '10.0.0.5', user: null },
  ];
  assert.deepEqual(topValues(rows, ['src_ip', 'user', 'dst_ip']), [
    {
      field: 'src_ip',
      values: [
        { value: '203.0.113.1', n: 2 },
        { value: '10.0.0.5', n: 1 },
      ],
    },
    { field: 'user', values: [{ value: 'root', n: 1 }] },
  ]);
});

test('alerts sort by level, count or time; ties by id descending, as the server pages them', () => {
  // A tie group: the server's keyset order (count desc, id desc), not the newest first.
  const ties = [
    alert('t1', { count: 5, last_seen: 9 }),
    alert('t3', { count: 5, last_seen: 1 }),
    alert('t2', { count: 5, last_seen: 5 }),
  ];
  assert.deepEqual(
    sortAlerts(ties, 'count').map((a) => a.id),
    ['t3', 't2', 't1'],
  );
  const list = [
    alert('a', { level: 'low', count: 50, last_seen: 3 }),
    alert('b', { level: 'critical', count: 2, last_seen: 1 }),
    alert('c', { level: 'critical', count: 9, last_seen: 2 }),
  ];
  assert.deepEqual(
    sortAlerts(list, 'level').map((a) => a.id),
    ['c', 'b', 'a'],
  );
  assert.deepEqual(
    sortAlerts(list, 'count').map((a) => a.id),
    ['a', 'c', 'b'],
  );
  assert.deepEqual(
    sortAlerts(list, 'last_seen').map((a) => a.id),
    ['a', 'c', 'b'],
  );
  assert.deepEqual(filtersFromParams(new URLSearchParams('level=high&entity=x')), {
    ...NO_FILTERS,
    level: 'high',
    entity: 'x',
  });
});

test('the live tail is ordered by time, newest first, and an updated alert replaces its row', () => {
  const ev = (seq: number, t: number): LiveItem => ({
    seq,
    kind: 'event',
    data: {
      id: `e${seq}`,
      source: 's',
      log_type: 'conn',
      event_time: t,
      src_ip: null,
      dst_ip: null,
      dst_port: null,
      user: null,
      host: null,
      summary: '',
    },
  });
  const al = (seq: number, id: string, lastSeen: number, count: number): LiveItem => ({
    seq,
    kind: 'alert',
    data: alert(id, { last_seen: lastSeen, count }),
  });
  const first = mergeLive([], [ev(1, 3000), ev(2, 1000), al(3, 'x', 2000, 10)], 10);
  assert.deepEqual(
    first.map((i) => i.seq),
    [1, 3, 2],
  );
  const next = mergeLive(first, [ev(4, 2500), al(5, 'x', 4000, 12)], 10);
  assert.deepEqual(
    next.map((i) => i.seq),
    [5, 1, 4, 2],
    'alert x once, in its new place',
  );
  assert.equal(mergeLive(next, [ev(6, 5000)], 2).length, 2);
});

test("an alert's targets come from its events; its entity pivots to the matching event filter", () => {
  assert.deepEqual(
    attackedTargets([{ dst_ip: '10.0.0.5' }, { dst_ip: '10.0.0.5' }, { dst_ip: '10.0.0.6' }]),
    [
      { field: 'dst_ip', value: '10.0.0.5', n: 2 },
      { field: 'dst_ip', value: '10.0.0.6', n: 1 },
    ],
  );
  assert.deepEqual(attackedTargets([{ host: 'bastion-01', dst_ip: null }]), [
    { field: 'host', value: 'bastion-01', n: 1 },
  ]);
  assert.deepEqual(attackedTargets([{}]), []);
  assert.deepEqual(entityEventFilter(alert('a', { group: { user: 'oracle' }, entity: 'oracle' })), {
    user: 'oracle',
  });
  assert.deepEqual(entityEventFilter(alert('a', { group: { src_ip: '203.0.113.1' } })), {
    src_ip: '203.0.113.1',
  });
  assert.deepEqual(entityEventFilter(alert('a', { group: {}, entity: '198.51.100.2' })), {
    src_ip: '198.51.100.2',
  });
  assert.equal(entityEventFilter(alert('a', { entity: null })), null);
});

test('alert bars span the whole range, 0 where no alert was raised', () => {
  const { x, series } = alertBars(
    [
      { t: 10_000, n: 2 },
      { t: 10_000, n: 1 },
      { t: 30_000, n: 4 },
    ],
    0,
    40_000,
    10,
  );
  assert.deepEqual(x, [0, 10, 20, 30]);
  assert.deepEqual(series, [{ name: 'alerts', values: [0, 3, 0, 4] }]);
});
