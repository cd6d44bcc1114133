/**
 * No log line can forge its source. The client chooses the user name (`ssh 'x from 10.0.0.1 port
 * 1 ssh2'@host`) and, in some messages, other text (a disconnect reason, a KEX offer, a PAM ruser).
 * For every sshd/PAM message shape OpenSSH and pam_unix write (auth.c, auth2.c, auth-pam.c,
 * packet.c, serverloop.c; pam_unix support.c), a hostile user name full of fake tails must leave
 * the real address in src_ip: exactly it where the grammar settles it, else nothing (never
 * another address). fast-check shrinks any counterexample to the smallest user name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sshd } from '../../src/parsers/sshd.ts';
import { feed, one } from './helpers.ts';

const REF = { referenceTimeMs: Date.UTC(2026, 10, 23) };
const REAL_V4 = '203.0.113.77';
const REAL_V6 = '2001:db8:77::1';

/** Pieces a forger puts into a user name: other addresses, and every fixed tail of every message. */
const FAKE = ['10.10.1.2', '127.0.0.1', '198.51.100.9', '::1', 'fe80::1', '::ffff:10.0.0.1'];
const hostilePiece = fc.oneof(
  fc.constantFrom(
    ' from ',
    ' port ',
    ' ssh2',
    ': ',
    ' [preauth]',
    ' rhost=',
    '  user=',
    ' user=',
    ' ruser=',
    'invalid user ',
    'authenticating user ',
    ' via ',
    ' not allowed because not listed in AllowUsers',
    ' id 0',
    ': RSA SHA256:abc',
    ']',
    '[',
    ' (',
    ')',
    ' ',
    '55555',
  ),
  fc.constantFrom(...FAKE),
  fc.stringMatching(/^[a-z0-9._-]{0,6}$/),
);
/** A user name: up to 100 characters (OpenSSH logs `%.100s`), printable (log.c strnvis). */
const hostileUser = fc
  .array(hostilePiece, { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join('').slice(0, 100))
  .filter((u) => !/[\n\r\t\u0000]/.test(u));

type Shape = { name: string; line: (user: string, ip: string) => string; exact: boolean };

// `exact`: the grammar settles the source, so it must be the real one. Otherwise (both sides
// client-chosen) it must be the real one or absent.
const SHAPES: readonly Shape[] = [
  {
    name: 'Failed password',
    exact: true,
    line: (u, ip) => `Failed password for ${u} from ${ip} port 58946 ssh2`,
  },
  {
    name: 'Failed password invalid user',
    exact: true,
    line: (u, ip) => `Failed password for invalid user ${u} from ${ip} port 58946 ssh2`,
  },
  {
    name: 'Failed keyboard-interactive/pam',
    exact: true,
    line: (u, ip) => `Failed keyboard-interactive/pam for invalid user ${u} from ${ip} port 2 ssh2`,
  },
  {
    name: 'Failed none',
    exact: true,
    line: (u, ip) => `Failed none for invalid user ${u} from ${ip} port 9 ssh2`,
  },
  {
    name: 'Failed publickey with key',
    exact: false,
    line: (u, ip) => `Failed publickey for ${u} from ${ip} port 22 ssh2: RSA SHA256:vR0Rz8l3Yy`,
  },
  {
    name: 'Accepted password',
    exact: true,
    line: (u, ip) => `Accepted password for ${u} from ${ip} port 1022 ssh2`,
  },
  { name: 'Invalid user', exact: true, line: (u, ip) => `Invalid user ${u} from ${ip} port 4242` },
  {
    name: 'maximum authentication attempts',
    exact: true,
    line: (u, ip) =>
      `error: maximum authentication attempts exceeded for invalid user ${u} from ${ip} port 5 ssh2 [preauth]`,
  },
  {
    name: 'Connection closed by authenticating user',
    exact: true,
    line: (u, ip) => `Connection closed by authenticating user ${u} ${ip} port 46039 [preauth]`,
  },
  {
    name: 'Connection closed by invalid user',
    exact: true,
    line: (u, ip) => `Connection closed by invalid user ${u} ${ip} port 46039 [preauth]`,
  },
  {
    name: 'Disconnected from authenticating user',
    exact: true,
    line: (u, ip) => `Disconnected from authenticating user ${u} ${ip} port 1 [preauth]`,
  },
  {
    name: 'Disconnected from user',
    exact: true,
    line: (u, ip) => `Disconnected from user ${u} ${ip} port 22`,
  },
  {
    name: 'Connection reset by invalid user',
    exact: true,
    line: (u, ip) => `Connection reset by invalid user ${u} ${ip} port 3 [preauth]`,
  },
  {
    name: 'User not allowed',
    exact: true,
    line: (u, ip) => `User ${u} from ${ip} not allowed because not listed in AllowUsers`,
  },
  {
    name: 'error: PAM: Authentication failure',
    exact: true,
    line: (u, ip) => `error: PAM: Authentication failure for illegal user ${u} from ${ip}`,
  },
  { name: 'Close session', exact: true, line: (u, ip) => `Close session: user ${u} from ${ip} port 22 id 0` },
  {
    name: 'pam_unix auth failure, user after rhost',
    exact: true,
    line: (u, ip) =>
      `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=${u}`,
  },
  {
    name: 'pam_unix with a client-chosen ruser too',
    exact: false,
    line: (u, ip) =>
      `pam_unix(auth): authentication failure; logname= uid=0 euid=0 tty=xxx ruser=${u} rhost=${ip} user=${u}`,
  },
  {
    name: 'PAM N more',
    exact: true,
    line: (u, ip) =>
      `PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=${u}`,
  },
  // The client's text after the address: read from the fixed start.
  {
    name: 'Received disconnect (client reason)',
    exact: true,
    line: (u, ip) => `Received disconnect from ${ip} port 5:11: ${u} [preauth]`,
  },
  {
    name: 'Unable to negotiate (client offer)',
    exact: true,
    line: (u, ip) =>
      `fatal: Unable to negotiate with ${ip} port 5: no matching cipher found. Their offer: ${u} [preauth]`,
  },
  {
    name: 'message repeated',
    exact: true,
    line: (u, ip) => `message repeated 3 times: [ Failed password for ${u} from ${ip} port 42393 ssh2]`,
  },
];

function sourcesOf(message: string): unknown[] {
  const line = `Dec 10 07:13:56 LabSZ sshd[24227]: ${message}`;
  const r = feed(sshd, [line], REF)[0];
  assert.ok(r.ok, `rejected: ${line}`);
  return r.records.map((rec) => rec.raw.src_ip);
}

for (const shape of SHAPES) {
  for (const real of [REAL_V4, REAL_V6]) {
    test(`${shape.name} (${real.includes(':') ? 'IPv6' : 'IPv4'}): a hostile user name never moves src_ip`, () => {
      // The honest line first: the shape is recognised and gives the real source.
      assert.deepEqual([...new Set(sourcesOf(shape.line('root', real)))], [real], shape.line('root', real));
      fc.assert(
        fc.property(hostileUser, (user) => {
          const line = shape.line(user, real);
          for (const src of sourcesOf(line)) {
            if (shape.exact) assert.equal(src, real, line);
            else assert.ok(src === real || src === undefined, `${line} → ${String(src)}`);
          }
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 300) },
      );
    });
  }
}

test('the user name is given back whole, even when it holds a fake tail', () => {
  const user = 'test from 10.10.1.2 port 55555 ssh2';
  const r = one(
    feed(
      sshd,
      [
        `Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user ${user} from 127.0.0.1 port 58946 ssh2`,
      ],
      REF,
    )[0],
  );
  assert.deepEqual([r.raw.src_ip, r.raw.user, r.raw.invalid_user], ['127.0.0.1', user, true]);
  const c = one(
    feed(
      sshd,
      [
        'Dec  1 10:00:00 h sshd[1]: Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]',
      ],
      REF,
    )[0],
  );
  assert.deepEqual(
    [c.raw.src_ip, c.raw.src_port, c.raw.user],
    ['192.0.2.11', 46039, 'test 127.0.0.1 port 12345'],
  );
});
