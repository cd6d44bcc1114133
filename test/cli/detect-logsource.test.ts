/**
 * Issue 15: a user with their own JSON logs runs a Sigma rule on them in one command, naming the
 * rule's logsource and field names on the command line (`--logsource`, `--field-map`), or in
 * socstream.yaml (`detect.logsources`). The logs are real (WRCCDC 2018 Zeek ssh.log as JSON),
 * read with the generic `json` format, as any JSON log would be.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDetect } from '../../src/cli/detect.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const SSH = `${SHARED_DATA}/zeek-json/wrccdc2018-zeek6.2/ssh.json`;

// Written for a product socstream has never heard of, with the rule author's own field names.
const RULE = `title: Raspberry Pi SSH login
id: 0b1c2d3e-0000-4000-8000-00000000aa01
logsource: {product: mysensor}
detection:
  selection:
    ServerBanner|contains: Raspbian
    LoginOk: 'true'
  condition: selection
level: high
`;

function workdir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'detect-logsource-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'rule.yml'), RULE);
  return dir;
}

test('one command: --logsource routes the product to the JSON events, --field-map names the fields', (t) => {
  const dir = workdir(t);
  const r = spawnSync(
    process.execPath,
    [
      MAIN,
      'detect',
      '--rules',
      join(dir, 'rule.yml'),
      '--format',
      'json',
      '--logsource',
      'product=mysensor@json',
      '--field-map',
      'ServerBanner=server',
      '--field-map',
      'LoginOk=auth_success',
      SSH,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const alerts = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Alert);
  assert.ok(alerts.length >= 1);
  assert.ok(alerts.every((a) => a.rule_title === 'Raspberry Pi SSH login'));
  assert.doesNotMatch(r.stderr, /warning/);
});

test('without the logsource the rule is loaded, warned about, and matches nothing', async (t) => {
  const dir = workdir(t);
  const alerts: Alert[] = [];
  const summary = await runDetect([SSH], { rules: [join(dir, 'rule.yml')], format: 'json' }, (a) =>
    alerts.push(a),
  );
  assert.equal(alerts.length, 0);
  assert.match(summary, /0 rule matches/);
});

test('detect.logsources in socstream.yaml does the same as the flags', async (t) => {
  const dir = workdir(t);
  const config = join(dir, 'socstream.yaml');
  writeFileSync(
    config,
    [
      'detect:',
      '  logsources:',
      '    - logsource: {product: mysensor}',
      '      events:',
      '        - source: json',
      '          fields: {ServerBanner: raw.server, LoginOk: raw.auth_success}',
      '',
    ].join('\n'),
  );
  const viaConfig: Alert[] = [];
  await runDetect([SSH], { rules: [join(dir, 'rule.yml')], format: 'json', config }, (a) =>
    viaConfig.push(a),
  );
  const viaFlags: Alert[] = [];
  await runDetect(
    [SSH],
    {
      rules: [join(dir, 'rule.yml')],
      format: 'json',
      logsource: ['product=mysensor@json'],
      fieldMap: ['ServerBanner=server', 'LoginOk=raw.auth_success'],
    },
    (a) => viaFlags.push(a),
  );
  assert.ok(viaConfig.length >= 1);
  assert.deepEqual(
    viaConfig.map((a) => [a.id, a.count]),
    viaFlags.map((a) => [a.id, a.count]),
  );
});

test('--time-field: correlations run on the time a JSON log keeps under its own name', async (t) => {
  const dir = workdir(t);
  // The same real ssh.log with its time under a name the json parser does not guess ("when").
  const lines = readFileSync(SSH, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { ts, _write_ts, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify({ when: ts, ...rest });
    });
  const input = join(dir, 'ssh-when.json');
  writeFileSync(input, `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'corr.yml'),
    [
      'title: SSH session',
      'name: ssh_session',
      'logsource: {product: mysensor}',
      'detection: {sel: {version: 2}, condition: sel}',
      '---',
      'title: SSH sessions to one server within a minute',
      'id: ssh-burst',
      'correlation: {type: event_count, rules: [ssh_session], group-by: [server], timespan: 1m, condition: {gte: 3}}',
      'level: medium',
      '',
    ].join('\n'),
  );
  const flags = { rules: [join(dir, 'corr.yml')], format: 'json', logsource: ['product=mysensor@json'] };
  const timed: Alert[] = [];
  await runDetect([input], { ...flags, timeField: 'when' }, (a) => timed.push(a));
  assert.ok(timed.length >= 1);
  for (const a of timed) {
    assert.equal(new Date(a.first_seen).getUTCFullYear(), 2018, 'the log time, not the read time');
    assert.ok(a.last_seen - a.first_seen <= 60_000);
  }
  const untimed: Alert[] = [];
  await runDetect([input], flags, (a) => untimed.push(a));
  for (const a of untimed) assert.ok(new Date(a.first_seen).getUTCFullYear() >= 2026);
  await assert.rejects(
    runDetect([input], { ...flags, format: 'sshd', timeField: 'when' }, () => {}),
    /--time-field applies to --format json/,
  );
});
