import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
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

test('detect and parse answer a missing log file the same way: SOC_USAGE naming it, exit 2, no stack', () => {
  for (const args of [
    ['detect', '--rules', RULES, '/nonexistent/auth.log'],
    ['parse', '/nonexistent/auth.log'],
  ]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr,
      'socstream: SOC_USAGE: cannot read /nonexistent/auth.log: no such file or directory\n',
    );
  }
});

test('detect without --rules is a usage error (exit 2), not a run with no rules', () => {
  const r = spawnSync(process.execPath, [MAIN, 'detect', '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--rules/);
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

test('several files are merged by event time: the second file is not late behind the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-detect-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // ssh-slow-bf spans 10 minutes (> the 60 s lateness); odd and even lines go to two files.
  const lines = readFileSync(`${DATA}auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log`, 'utf8')
    .trim()
    .split('\n');
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, `${lines.filter((_, i) => i % 2 === 0).join('\n')}\n`);
  writeFileSync(b, `${lines.filter((_, i) => i % 2 === 1).join('\n')}\n`);
  const alerts: Alert[] = [];
  const summary = await runDetect([a, b], { rules: [RULES] }, (x) => alerts.push(x));
  assert.match(summary, /2 input\(s\) \[sshd\], 22 lines, 22 events/);
  assert.match(summary, /0 late events dropped/);
  const latest = [...new Map(alerts.map((x) => [x.id, x])).values()];
  assert.deepEqual(latest.map((x) => [x.rule_title, x.count]).sort(), [
    ['Brute force from one source', 22],
    ['Brute force on one account', 22],
  ]);
});
