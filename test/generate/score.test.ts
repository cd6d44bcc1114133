import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../src/detect/alert.ts';
import type { TruthRecord } from '../../src/generate/generator.ts';
import { scoreAlerts } from '../../src/generate/score.ts';

const truth: TruthRecord[] = [
  {
    id: 'bruteforce-0001',
    scenario: 'bruteforce',
    attacker: { src_ip: '203.0.113.1' },
    targets: { hosts: ['bastion-01'], users: ['root'], ports: [22] },
    formats: ['sshd'],
    expected_rules: ['brute_force_from_source', 'brute_force_on_account'],
    start_ms: 1_000_000,
    end_ms: 1_050_000,
    start: '',
    end: '',
    events: 25,
    planned: 25,
    complete: true,
  },
];

function alert(rule_id: string, group: Record<string, string>, first_seen: number): Alert {
  return {
    id: rule_id + first_seen,
    rule_id,
    rule_title: rule_id,
    level: 'high',
    tags: [],
    group,
    entity: Object.values(group)[0] ?? null,
    count: 10,
    first_seen,
    last_seen: first_seen + 20_000,
    event_ids: [],
    summary: '',
    status: 'new',
    assignee: null,
    created_at: 0,
  };
}

test('an instance is detected when every expected rule alerts on its source or its attacked account', () => {
  const alerts = [
    alert('brute_force_from_source', { src_ip: '203.0.113.1' }, 1_010_000),
    alert('brute_force_on_account', { user: 'root' }, 1_012_000),
  ];
  const s = scoreAlerts(truth, alerts);
  assert.equal(s.detected, 1);
  assert.equal(s.scored, 1);
  assert.deepEqual(s.instances[0].missed, []);
  assert.deepEqual(s.falsePositives, []);
});

test('a missing expected rule, an alert outside the time span and an unrelated alert are all counted', () => {
  const alerts = [
    alert('brute_force_from_source', { src_ip: '203.0.113.1' }, 1_010_000),
    alert('brute_force_on_account', { user: 'root' }, 9_000_000), // hours later: not this attack
    alert('port_scan_vertical', { src_ip: '10.1.1.10', dst_ip: '10.0.0.20' }, 1_010_000),
  ];
  const s = scoreAlerts(truth, alerts, { slackMs: 60_000 });
  assert.equal(s.detected, 0);
  assert.deepEqual(s.instances[0].missed, ['brute_force_on_account']);
  assert.equal(s.falsePositives.length, 2);
});

test('rules are matched by any of their keys (name or id)', () => {
  const alerts = [
    alert('a3e98be6', { src_ip: '203.0.113.1' }, 1_010_000),
    alert('1ca62eb4', { user: 'root' }, 1_010_000),
  ];
  const names: Record<string, string> = {
    a3e98be6: 'brute_force_from_source',
    '1ca62eb4': 'brute_force_on_account',
  };
  const s = scoreAlerts(truth, alerts, { ruleKeys: (a) => [a.rule_id, names[a.rule_id]] });
  assert.equal(s.detected, 1);
});
