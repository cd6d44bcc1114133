import { authJsonLine } from '../auth-json.ts';
import { AUTH_HOSTS, attackerIp, ephemeralPort, SSH_HOSTS, USERS } from '../entities.ts';
import { sshdLine } from '../sshd.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';

export const SPRAY_ACCOUNTS = 20;

/** Picks `n` distinct accounts (a partial Fisher-Yates shuffle of a copy). */
function distinctUsers(rng: { int(n: number): number }, n: number): string[] {
  const pool = [...USERS];
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

/**
 * Password spray: one source, one attempt each on many distinct accounts, 3 s apart. Even
 * instances against sshd, odd ones against the SSO service's auth_events.
 */
export const spray: AttackFactory = ({ ctx, rng, index }) => {
  const ip = attackerIp('spray', index);
  const users = distinctUsers(rng, SPRAY_ACCOUNTS);
  const times = spaced(SPRAY_ACCOUNTS, 3000, rng, 500);
  const viaSshd = index % 2 === 0;
  const host = viaSshd ? rng.pick(SSH_HOSTS) : rng.pick(AUTH_HOSTS);
  const pid = rng.range(10_000, 3_999_999);
  return {
    scenario: 'spray',
    attacker: { src_ip: ip },
    targets: { hosts: [host], users, ports: viaSshd ? [22] : [] },
    formats: [viaSshd ? 'sshd' : 'auth-json'],
    expectedRules: [...(viaSshd ? EXPECTED_RULES.spray.sshd : EXPECTED_RULES.spray['auth-json'])],
    steps: times.map((atMs, i) => ({
      atMs,
      make: (t) =>
        viaSshd
          ? sshdLine(ctx, t, host, pid + i, {
              kind: 'failed',
              user: users[i],
              invalidUser: false,
              ip,
              port: ephemeralPort(rng),
            })
          : authJsonLine(t, { user: users[i], srcIp: ip, outcome: 'failure', method: 'password', host }),
    })),
  };
};
