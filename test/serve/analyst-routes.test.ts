import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Envelope } from '../../src/core/envelope.ts';
import { alertTimeline, attackTechniques, groupAlerts } from '../../src/serve/analyst-routes.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { alertFor, bearer, type Fixture, startFixture } from './helpers.ts';

let f: Fixture;
let inbound: Envelope[];
before(async () => {
  f = await startFixture();
  f.deps.rulePaths = ['rules'];
  // Connections from outside: the fixture's own events are all internal. Four say so by their
  // direction; two (as an auth log's, without a destination) only by a source outside the home networks.
  inbound = manyEnvelopes('ssh', 6, Date.now() - 300_000, 20_000, 'inbound');
  inbound.forEach((e, i) => {
    const enriched = e.enriched as Record<string, unknown>;
    e.normalized.src_ip = i < 4 ? '203.0.113.7' : '198.51.100.2';
    if (i < 4) enriched.direction = 'inbound';
    else {
      delete enriched.direction;
      enriched.src_in_home = false;
    }
    enriched.src_ip_is_private = false;
  });
  await writeLake(join(f.dir, 'lake'), [inbound]);
});
after(() => f.close());

const get = async <T>(url: string, status = 200): Promise<T> => {
  const res = await f.app.inject({ url, headers: bearer('viewer') });
  assert.equal(res.statusCode, status, `${url}: ${res.body}`);
  return JSON.parse(res.body) as T;
};

describe('GET /api/stats/sources', () => {
  test('scope=external (the default) ranks only sources from outside the home networks', async () => {
    const { sources } = await get<{ sources: Array<{ ip: string; n: number }> }>(
      `/api/stats/sources?from=${Date.now() - 3_600_000}`,
    );
    assert.deepEqual(
      sources.map((s) => [s.ip, s.n]),
      [
        ['203.0.113.7', 4],
        ['198.51.100.2', 2],
      ],
    );
  });

  test('scope=all ranks every source, internal ones included', async () => {
    const { sources } = await get<{ sources: Array<{ ip: string }> }>(
      `/api/stats/sources?scope=all&limit=50&from=${Date.now() - 3_600_000}`,
    );
    const internal = String(f.dns[0].normalized.src_ip);
    assert.ok(sources.some((s) => s.ip === internal));
    assert.ok(sources.some((s) => s.ip === '203.0.113.7'));
  });
});

describe('GET /api/events/:id', () => {
  test('answers the raw, normalized and enriched layers of one event', async () => {
    const e = f.ssh[0];
    const got = await get<{
      id: string;
      event_time: number;
      raw: Record<string, unknown>;
      normalized: Record<string, unknown>;
      enriched: Record<string, unknown>;
    }>(`/api/events/${e.id}?t=${e.normalized.event_time}`);
    assert.equal(got.id, e.id);
    assert.equal(got.event_time, e.normalized.event_time);
    assert.deepEqual(got.raw, e.raw, 'the raw record as parsed');
    assert.equal(got.normalized.src_ip, e.normalized.src_ip);
    assert.equal(got.enriched.direction, 'internal');
    assert.equal(got.normalized.ingest_time, e.normalized.ingest_time, 'times are epoch ms');
    assert.equal('raw' in got.normalized, false);
  });

  test('an unknown id is a 404', async () => {
    await get('/api/events/no-such-event', 404);
  });
});

test('GET /api/log-types lists the log types the lake holds', async () => {
  const { log_types } = await get<{ log_types: string[] }>('/api/log-types');
  assert.deepEqual(log_types, ['dns', 'ssh']);
});

describe('GET /api/alerts/groups', () => {
  test('groups by rule and by entity with alert and event counts, most severe first', async () => {
    const byRule = await get<{
      groups: Array<{ key: string; label: string; alerts: number; events: number }>;
    }>('/api/alerts/groups?by=rule');
    assert.deepEqual(
      byRule.groups.map((g) => [g.key, g.label, g.alerts, g.events]),
      [
        ['ssh-brute', 'SSH brute force', 1, 5],
        ['dns-tunnel', 'DNS tunnel', 1, 3],
      ],
    );
    const byEntity = await get<{ groups: Array<{ label: string }> }>(
      '/api/alerts/groups?by=entity&level=high',
    );
    assert.deepEqual(
      byEntity.groups.map((g) => g.label),
      ['src_ip'],
    );
  });

  test('by is required and checked', async () => {
    await get('/api/alerts/groups', 400);
    await get('/api/alerts/groups?by=colour', 400);
  });

  test('groupAlerts folds many alerts of one entity into one row with the highest level', () => {
    const a = alertFor(f.ssh.slice(0, 2), {
      id: 'a1',
      level: 'low',
      status: 'closed',
      entity: '203.0.113.7',
    });
    const b = alertFor(f.ssh.slice(2, 5), {
      id: 'a2',
      level: 'critical',
      rule_id: 'other',
      entity: '203.0.113.7',
    });
    const [g] = groupAlerts([a, b], 'entity');
    assert.deepEqual([g.alerts, g.events, g.max_level, g.open], [2, 5, 'critical', 1]);
  });
});

describe('GET /api/rules/:id', () => {
  test('answers a bundled rule with its text, ATT&CK techniques and fixtures', async () => {
    const rule = await get<{
      title: string;
      description: string;
      level: string;
      kind: string;
      attack: Array<{ id: string; url: string }>;
      yaml: string;
      fixtures: Array<{ name: string }>;
    }>('/api/rules/1ca62eb4-05e8-4454-a49d-4261855367f3');
    assert.equal(rule.title, 'Brute force on one account');
    assert.equal(rule.kind, 'correlation');
    assert.equal(rule.level, 'high');
    assert.match(rule.description, /failed logins/);
    assert.deepEqual(rule.attack, [
      { id: 'T1110.001', url: 'https://attack.mitre.org/techniques/T1110/001/' },
    ]);
    assert.match(rule.yaml, /^title: Brute force on one account/);
    assert.ok(rule.fixtures.some((x) => x.name === 'positive.log'));
  });

  test('an unknown rule is a 404', async () => {
    await get('/api/rules/not-a-rule', 404);
  });
});

test('attackTechniques links techniques and sub-techniques and ignores tactics', () => {
  assert.deepEqual(attackTechniques(['attack.credential-access', 'attack.t1046', 'attack.t1110.003']), [
    { id: 'T1046', url: 'https://attack.mitre.org/techniques/T1046/' },
    { id: 'T1110.003', url: 'https://attack.mitre.org/techniques/T1110/003/' },
  ]);
});

describe('GET /api/events/histogram', () => {
  test('counts the events the filters of /api/events match, per bucket', async () => {
    const from = Date.now() - 3_600_000;
    const all = await get<{ buckets: Array<{ t: number; n: number }>; bucket_seconds: number }>(
      `/api/events/histogram?from=${from}&bucket_seconds=60`,
    );
    assert.equal(all.bucket_seconds, 60);
    assert.equal(
      all.buckets.reduce((s, b) => s + b.n, 0),
      f.dns.length + f.ssh.length + inbound.length,
    );
    assert.ok(all.buckets.every((b) => b.t % 60_000 === 0));
    const ssh = await get<{ buckets: Array<{ n: number }> }>(
      `/api/events/histogram?from=${from}&log_type=ssh`,
    );
    assert.equal(
      ssh.buckets.reduce((s, b) => s + b.n, 0),
      f.ssh.length + inbound.length,
    );
    const one = await get<{ buckets: Array<{ n: number }> }>(
      `/api/events/histogram?from=${from}&src_ip=203.0.113.7`,
    );
    assert.equal(
      one.buckets.reduce((s, b) => s + b.n, 0),
      4,
    );
    const text = String(f.dns[0].normalized.dns_query);
    const listed = await get<{ events: unknown[] }>(
      `/api/events?from=${from}&limit=500&q=${encodeURIComponent(text)}`,
    );
    const counted = await get<{ buckets: Array<{ n: number }> }>(
      `/api/events/histogram?from=${from}&q=${encodeURIComponent(text)}`,
    );
    assert.equal(
      counted.buckets.reduce((s, b) => s + b.n, 0),
      listed.events.length,
      'the same text match as the list',
    );
  });

  test('a reversed range or an unknown log type is refused', async () => {
    await get(`/api/events/histogram?from=${Date.now()}&to=${Date.now() - 1000}`, 400);
    await get('/api/events/histogram?log_type=nosuch', 400);
  });
});

describe('GET /api/alerts/timeline', () => {
  test('counts alerts per bucket of first_seen and level over the range', async () => {
    const from = Date.now() - 3_600_000;
    const got = await get<{ bucket_seconds: number; rows: Array<{ t: number; level: string; n: number }> }>(
      `/api/alerts/timeline?from=${from}&bucket_seconds=600`,
    );
    assert.equal(got.bucket_seconds, 600);
    assert.deepEqual(got.rows.map((r) => r.level).sort(), ['high', 'medium']);
    assert.equal(
      got.rows.reduce((s, r) => s + r.n, 0),
      f.alerts.length,
    );
    for (const r of got.rows) assert.equal((r.t - from) % 600_000, 0);
  });

  test('alertTimeline puts each alert in the bucket of its first_seen', () => {
    const a = alertFor(f.ssh.slice(0, 1), { id: 'x1', first_seen: 1_000, level: 'low' });
    const b = alertFor(f.ssh.slice(0, 1), { id: 'x2', first_seen: 9_999, level: 'low' });
    const c = alertFor(f.ssh.slice(0, 1), { id: 'x3', first_seen: 10_000, level: 'critical' });
    assert.deepEqual(alertTimeline([a, b, c], 0, 10), [
      { t: 0, level: 'low', n: 2 },
      { t: 10_000, level: 'critical', n: 1 },
    ]);
  });
});
