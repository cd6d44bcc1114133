/**
 * One login attempt is counted once, however many lines OpenSSH and PAM write for it. The lines
 * are loghub OpenSSH_2k's and Linux_2k's (test/fixtures/parsers/sshd/loghub, see SOURCES.md).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AttemptCounter } from '../../src/parsers/auth-attempts.ts';
import { sshd } from '../../src/parsers/sshd.ts';
import { feed } from './helpers.ts';

const LOGHUB = new URL('../fixtures/parsers/sshd/loghub/', import.meta.url).pathname;
const REF = { referenceTimeMs: Date.UTC(2026, 10, 23) };
const OPENSSH = readFileSync(`${LOGHUB}OpenSSH_2k.log`, 'utf8').split('\n');

/** [event, auth_attempts] of every record of these lines (one parser: state carries over). */
function attempts(lines: string[], service?: string): Array<[unknown, unknown]> {
  return feed(sshd, lines, REF).flatMap((r) =>
    r.ok
      ? r.records
          .filter((x) => service === undefined || x.raw.service === service)
          .map((x) => [x.raw.event, x.raw.auth_attempts] as [unknown, unknown])
      : [],
  );
}

test('an unknown user guessing once: Invalid user + pam_unix + Failed password = one attempt', () => {
  // loghub OpenSSH_2k lines 2-7 (sshd[24200])
  assert.deepEqual(attempts(OPENSSH.slice(1, 7)), [
    ['invalid_user', 1],
    ['invalid_user_request', undefined],
    ['check_pass', undefined],
    ['auth_failure', 0],
    ['failed_password', 0],
    ['connection_closed', undefined],
  ]);
});

test('six guesses for root: one PAM line, one Failed, five folded by rsyslog, PAM 5 more = six', () => {
  // loghub OpenSSH_2k lines 28-33 (sshd[24227]; line 30 is `message repeated 5 times`)
  const got = attempts(OPENSSH.slice(27, 33));
  assert.equal(
    got.reduce((s, [, n]) => s + (typeof n === 'number' ? n : 0), 0),
    6,
  );
  assert.deepEqual(
    got.map(([e]) => e),
    [
      'auth_failure',
      'failed_password',
      'failed_password',
      'failed_password',
      'failed_password',
      'failed_password',
      'failed_password',
      'too_many_failures',
      'auth_failures_repeated',
      'pam_max_retries',
    ],
  );
});

test('when only PAM recorded the guesses (Linux_2k), each PAM failure is an attempt', () => {
  const linux = readFileSync(`${LOGHUB}Linux_2k.log`, 'utf8').split('\n');
  const got = attempts(linux, 'sshd').filter(([e]) => e === 'auth_failure');
  assert.equal(got.length, 489);
  assert.ok(got.every(([, n]) => n === 1));
});

test("a reused pid after the connection closed is a new connection; PAM's closing summary is not", () => {
  const c = new AttemptCounter();
  assert.equal(c.count('h', 'sshd', 7, 'failed', 0, 0), 1);
  assert.equal(c.count('h', 'sshd', 7, 'pam', 0, 1), 0);
  c.close('h', 'sshd', 7);
  assert.equal(c.count('h', 'sshd', 7, 'pam_total', 2, 2), 1, 'PAM 1 more: the total is two');
  assert.equal(c.count('h', 'sshd', 7, 'failed', 0, 3), 1, 'a new connection under the same pid');
  assert.equal(c.count('h', 'sshd', 8, 'probe', 0, 4), 1);
  assert.equal(c.count('h', 'sshd', 8, 'failed', 0, 5), 0);
  assert.equal(c.count('h', 'sshd', 8, 'failed', 0, 6), 1);
  // Idle for over 30 minutes: a new connection (pid reuse).
  assert.equal(c.count('h', 'sshd', 8, 'failed', 0, 6 + 31 * 60_000), 1);
});

test('memory stays bounded on an endless stream of connections', () => {
  const c = new AttemptCounter();
  for (let pid = 0; pid < 40_000; pid++) c.count('h', 'sshd', pid, 'failed', 0, pid);
  assert.ok(c.size <= 16_384, String(c.size));
});
