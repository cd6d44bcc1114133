import { authJsonLine } from '../auth-json.ts';
import { AUTH_HOSTS, attackerIp, ephemeralPort, SSH_HOSTS, USERS } from '../entities.ts';
import { sshdLine } from '../sshd.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { BRUTE_FORCE_ACCOUNTS } from './bruteforce.ts';
import { EXPECTED_RULES } from './expected-rules.ts';

export const SUCCESS_FAILURES = 15;

/**
 * Brute force that works: SUCCESS_FAILURES failures on one account from one source, then a
 * successful login for that account from that source (Sigma temporal_ordered). Even instances
 * on sshd, odd ones on auth_events.
 */
export const success: AttackFactory = ({ ctx, rng, index }) => {
  const ip = attackerIp('success', index);
  const times = spaced(SUCCESS_FAILURES + 1, 2000, rng, 400);
  const viaSshd = index % 2 === 0;
  const user = viaSshd ? rng.pick(BRUTE_FORCE_ACCOUNTS) : rng.pick(USERS);
  const host = viaSshd ? rng.pick(SSH_HOSTS) : rng.pick(AUTH_HOSTS);
  const pid = rng.range(10_000, 3_999_999);
  const last = times.length - 1;
  return {
    scenario: 'success',
    attacker: { src_ip: ip, user },
    targets: { hosts: [host], users: [user], ports: viaSshd ? [22] : [] },
    formats: [viaSshd ? 'sshd' : 'auth-json'],
    expectedRules: [...(viaSshd ? EXPECTED_RULES.success.sshd : EXPECTED_RULES.success['auth-json'])],
    steps: times.map((atMs, i) => ({
      atMs,
      make: (t) => {
        const ok = i === last;
        if (!viaSshd)
          return authJsonLine(t, {
            user,
            srcIp: ip,
            outcome: ok ? 'success' : 'failure',
            method: 'password',
            host,
          });
        const port = ephemeralPort(rng);
        return ok
          ? sshdLine(ctx, t, host, pid + i, { kind: 'accepted', user, method: 'password', ip, port })
          : sshdLine(ctx, t, host, pid + i, { kind: 'failed', user, invalidUser: false, ip, port });
      },
    })),
  };
};
