import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runDetect } from '../../src/cli/detect.ts';
import type { Alert } from '../../src/detect/alert.ts';

const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const RULES = new URL('../../rules/', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

test('detect hunts over a real sshd log: brute force by source and by account, summary counts', async () => {
  const alerts: Alert[] = [];
  const summary = await runDetect(
    [`${DATA}auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log`],
    { rules: [RULES] },
    (a) => alerts.push(a),
  );
  const latest = new Map(alerts.map((a) => [a.id, a]));
  const titles = [...latest.values()].map((a) => a.rule_title).sort();
  assert.deepEqual(titles, ['Brute force from one source', 'Brute force on one account']);
  for (const a of latest.values()) assert.equal(a.count, 22);
  assert.match(summary, /\[sshd\], 22 lines, 22 events, 0 rejected/);
  assert.match(summary, /2 alerts raised/);
});

test('detect as a command: NDJSON on stdout, summary on stderr, format detection, exit 0', () => {
  const r = spawnSync(
    process.execPath,
    [MAIN, 'detect', '--rules', RULES, `${DATA}auth/crowdsec-hub/ssh-bf__ssh-bf.log`],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Alert);
  assert.ok(
    lines.some(
      (a) => a.rule_title === 'Password spray from one source' && a.group.src_ip === '35.188.49.176',
    ),
  );
  assert.match(r.stderr, /detect: 1 input\(s\) \[sshd\]/);
});

test('detect with a missing rules folder is a usage error (exit 2)', () => {
  const r = spawnSync(process.execPath, [MAIN, 'detect', '--rules', '/nonexistent/rules', '/dev/null'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no such file or folder/);
});

test('detect reads stdin: the threat-analyzer events give alerts for high and critical only', () => {
  const input = [
    '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}',
    '{"host": "endpoint02", "threat": "unknown_process", "severity": "low"}',
    '{"host": "endpoint03", "threat": "exploit_attempt", "severity": "critical"}',
    'not json at all',
  ].join('\n');
  const r = spawnSync(process.execPath, [MAIN, 'detect', '--rules', RULES, '--format', 'threat-json'], {
    input,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const alerts = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Alert);
  assert.deepEqual(
    alerts.map((a) => [a.group.host, a.level]),
    [
      ['endpoint01', 'high'],
      ['endpoint03', 'critical'],
    ],
  );
  assert.match(r.stderr, /4 lines, 3 events, 1 rejected/);
});
