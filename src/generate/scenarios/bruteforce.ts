import { authJsonLine } from '../auth-json.ts';
import { AUTH_HOSTS, attackerIp, ephemeralPort, SSH_HOSTS, USERS } from '../entities.ts';
import { sshdLine } from '../sshd.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';

/** Privileged and service accounts that brute-force tools try first. */
export const BRUTE_FORCE_ACCOUNTS = ['root', 'admin', 'oracle', 'postgres', 'ubuntu', 'git'];
export const BRUTE_FORCE_ATTEMPTS = 25;

/**
 * Brute force: many failed logins on one account from one source, 2 s apart. Even instances hit
 * sshd (auth.log), odd ones the SSO service's auth_events (a campus account).
 */
export const bruteforce: AttackFactory = ({ ctx, rng, index }) => {
  const ip = attackerIp('bruteforce', index);
  const times = spaced(BRUTE_FORCE_ATTEMPTS, 2000, rng, 400);
  if (index % 2 === 0) {
    const user = rng.pick(BRUTE_FORCE_ACCOUNTS);
    const host = rng.pick(SSH_HOSTS);
    let pid = rng.range(10_000, 3_999_999);
    return {
      scenario: 'bruteforce',
      attacker: { src_ip: ip },
      targets: { hosts: [host], users: [user], ports: [22] },
      formats: ['sshd'],
      expectedRules: [...EXPECTED_RULES.bruteforce.sshd],
      steps: times.map((atMs, i) => ({
        atMs,
        make: (t) => {
          if (i % 3 === 0) pid += rng.range(1, 40); // sshd forks a child per connection
          return sshdLine(ctx, t, host, pid, {
            kind: 'failed',
            user,
            invalidUser: false,
            ip,
            port: ephemeralPort(rng),
          });
        },
      })),
    };
  }
  const user = rng.pick(USERS);
  const host = rng.pick(AUTH_HOSTS);
  return {
    scenario: 'bruteforce',
    attacker: { src_ip: ip },
    targets: { hosts: [host], users: [user], ports: [] },
    formats: ['auth-json'],
    expectedRules: [...EXPECTED_RULES.bruteforce['auth-json']],
    steps: times.map((atMs) => ({
      atMs,
      make: (t) => authJsonLine(t, { user, srcIp: ip, outcome: 'failure', method: 'password', host }),
    })),
  };
};
