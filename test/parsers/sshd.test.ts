import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sshd } from '../../src/parsers/sshd.ts';
import { feed, one, verdict } from './helpers.ts';

const REF = { referenceTimeMs: Date.UTC(2026, 10, 23) };

test('failed password for an invalid user from IPv6: user, src_ip, port, method, outcome', () => {
  const r = one(
    feed(
      sshd,
      [
        'Apr  6 18:51:41 eve sshd[2784424]: Failed password for invalid user root from 2001:db8::5 port 51182 ssh2',
      ],
      REF,
    )[0],
  );
  assert.equal(r.log_type, 'auth');
  assert.equal(r.eventTimeMs, Date.UTC(2026, 3, 6, 18, 51, 41));
  assert.deepEqual(
    { ...r.raw, message: undefined },
    {
      timestamp: 'Apr  6 18:51:41',
      host: 'eve',
      program: 'sshd',
      pid: 2784424,
      message: undefined,
      event: 'failed_password',
      outcome: 'failure',
      method: 'password',
      invalid_user: true,
      user: 'root',
      src_ip: '2001:db8::5',
      src_port: 51182,
      protocol: 'ssh2',
      auth_attempts: 1,
    },
  );
});

test('accepted publickey keeps key type and fingerprint; ::ffff: mapped clients become IPv4', () => {
  const [a, b] = feed(
    sshd,
    [
      'Sep  6 09:57:21 bullseye sshd[581]: Accepted publickey for vagrant from ::ffff:192.168.121.1 port 56296 ssh2: RSA SHA256:1M4Rz',
      'Dec 22 14:53:37 ip-172-31-20-90 sshd[4177]: Connection closed by authenticating user root 206.81.24.125 port 45362 [preauth]',
    ],
    REF,
  ).map(one);
  assert.deepEqual(
    [a.raw.event, a.raw.outcome, a.raw.method, a.raw.src_ip, a.raw.key_type, a.raw.key_fingerprint],
    ['accepted', 'success', 'publickey', '192.168.121.1', 'RSA', 'SHA256:1M4Rz'],
  );
  assert.deepEqual(
    [b.raw.event, b.raw.outcome, b.raw.user, b.raw.src_ip, b.raw.src_port],
    ['closed_preauth', 'failure', 'root', '206.81.24.125', 45362],
  );
  assert.equal(b.eventTimeMs, Date.UTC(2025, 11, 22, 14, 53, 37), 'December read in November 2026 is 2025');
});

test('sudo: command lines are log type sudo; NOT in sudoers is a failure', () => {
  const [ok, denied] = feed(
    sshd,
    [
      'Feb 21 23:35:33 localhost sudo: vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls',
      'Feb 24 00:13:02 precise32 sudo:      tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls',
    ],
    REF,
  ).map(one);
  assert.equal(ok.log_type, 'sudo');
  assert.deepEqual(
    [ok.raw.user, ok.raw.tty, ok.raw.run_as, ok.raw.command, ok.raw.outcome],
    ['vagrant', 'pts/0', 'root', '/bin/ls', 'success'],
  );
  assert.deepEqual(
    [denied.raw.user, denied.raw.reason, denied.raw.outcome],
    ['tsg', 'user NOT in sudoers', 'failure'],
  );
});

test('pam_unix authentication failure: rhost is the source, pairs kept as pam_*', () => {
  const r = one(
    feed(
      sshd,
      [
        'Nov 2 15:40:14 workshop sshd[28179]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.33.63.160 user=workshop',
      ],
      REF,
    )[0],
  );
  assert.deepEqual(
    [r.raw.event, r.raw.outcome, r.raw.user, r.raw.src_ip, r.raw.service, r.raw.pam_tty],
    ['auth_failure', 'failure', 'workshop', '5.33.63.160', 'sshd', 'ssh'],
  );
});

test('other syslog lines are accepted as syslog; non-syslog text and blank lines are not events', () => {
  assert.deepEqual(
    feed(
      sshd,
      ['Feb 22 11:47:05 localhost useradd[6995]: new user: name=apache', 'not syslog', '', '\u0000\u0000'],
      REF,
    ).map((r) => (r.ok && r.records.length ? r.records[0].log_type : verdict(r))),
    ['syslog', 'unrecognized_line', 'skip', 'binary_data'],
  );
});

test('brute-force signals: max auth attempts, PAM repeated failures, PAM failure; session and connection lines', () => {
  const lines = [
    'Mar  1 10:00:00 h sshd[1]: error: maximum authentication attempts exceeded for invalid user admin from 203.0.113.9 port 4022 ssh2 [preauth]',
    'Mar  1 10:00:01 h sshd[1]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root',
    'Mar  1 10:00:02 h sshd[1]: error: PAM: Authentication failure for illegal user bob from 203.0.113.9',
    'Mar  1 10:00:03 h sshd[1]: Disconnected from user alice 198.51.100.4 port 50022',
    'Mar  1 10:00:04 h sshd[1]: Connection from 198.51.100.4 port 50022 on 10.0.0.5 port 22 rdomain ""',
  ];
  const raws = feed(sshd, lines, REF).map((r) => one(r).raw);
  const pick = (raw: Record<string, unknown>) => [
    raw.event,
    raw.outcome,
    raw.user,
    raw.src_ip,
    raw.src_port,
    raw.invalid_user,
    raw.repeat_count,
    raw.dst_port,
  ];
  assert.deepEqual(raws.map(pick), [
    ['max_auth_attempts', 'failure', 'admin', '203.0.113.9', 4022, true, undefined, undefined],
    ['auth_failures_repeated', 'failure', 'root', '203.0.113.9', undefined, undefined, 5, undefined],
    ['auth_failure', 'failure', 'bob', '203.0.113.9', undefined, true, undefined, undefined],
    ['session_closed', 'unknown', 'alice', '198.51.100.4', 50022, undefined, undefined, undefined],
    ['connection', 'unknown', undefined, '198.51.100.4', 50022, undefined, undefined, 22],
  ]);
});
