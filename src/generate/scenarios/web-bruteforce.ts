import { appJsonLine } from '../app-json.ts';
import { attackerIp } from '../entities.ts';
import { nginxLine } from '../nginx.ts';
import type { AttackStep } from './attack.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';

export const WEB_FAILURES = 30;
export const WEB_BLOCKED = 10;
const TOOL_AGENTS = ['python-requests/2.31.0', 'Mozilla/5.0 (Hydra)', 'curl/8.5.0'];

/**
 * Web login brute force against the portal: POST /login answered 401 (nginx) + login_failed
 * (FastAPI app) WEB_FAILURES times a second apart, then the app's rate limiter answers 429 +
 * login_blocked with retry_after for WEB_BLOCKED more tries.
 */
export const webBruteforce: AttackFactory = ({ rng, index }) => {
  const ip = attackerIp('web-bruteforce', index);
  const username = rng.pick(['admin', 'administrator', 'test', 'alice.smith']);
  const agent = TOOL_AGENTS[index % TOOL_AGENTS.length];
  const times = spaced(WEB_FAILURES + WEB_BLOCKED, 1000, rng, 200);
  const steps: AttackStep[] = [];
  times.forEach((atMs, i) => {
    const blocked = i >= WEB_FAILURES;
    steps.push({
      atMs,
      make: (t) =>
        nginxLine(t, {
          clientIp: ip,
          method: 'POST',
          path: '/login',
          status: blocked ? 429 : 401,
          bytes: blocked ? 162 : 188,
          userAgent: agent,
        }),
    });
    steps.push({
      atMs: atMs + 1,
      make: (t) =>
        appJsonLine(t, {
          event: blocked ? 'login_blocked' : 'login_failed',
          username,
          userId: null,
          role: null,
          ip,
          reason: blocked ? 'rate_limited' : 'invalid_password',
          deviceType: 'bot',
          browser: 'Other',
          os: 'Other',
          durationMs: 5 + rng.int(3000) / 100,
          status: blocked ? 429 : 401,
          failedAttemptsWindow: Math.min(i + 1, WEB_FAILURES),
          retryAfter: blocked ? 60 : null,
        }),
    });
  });
  return {
    scenario: 'web-bruteforce',
    attacker: { src_ip: ip, user: username },
    targets: { hosts: ['portal.campus.example.edu'], users: [username], ports: [443] },
    formats: ['nginx', 'app-json'],
    expectedRules: [...EXPECTED_RULES['web-bruteforce'].web],
    steps,
  };
};
