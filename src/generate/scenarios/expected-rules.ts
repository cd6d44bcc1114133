/**
 * Which bundled rules (rules/*.yml, by Sigma `name`, or `id` where a rule has no name) must alert
 * on each attack. An attack may set off more rules than listed (a spray is also many failures
 * from one source); these are the ones a detection test requires. Beacons have no bundled rule
 * yet: their ground truth is for scoring other detectors. test/generate/ground-truth.test.ts
 * checks every name here exists in rules/.
 */
const SURICATA_ALERT_MEDIUM = 'd4b180de-0ff2-4621-a2f6-55decb4e0db3';
const THREAT_HIGH = 'fb7c165a-008d-41bd-bc8b-2a2c0f38d8ee';
const THREAT_CRITICAL = '5d4c370d-27bf-492e-ac5c-9372cef6f624';
const WEB_SUSP_RESP_CODES = '4b73b59e-c906-498d-a060-b927852d0e6a';

const BRUTE_FORCE = ['brute_force_from_source', 'brute_force_on_account'];

export const EXPECTED_RULES = {
  bruteforce: { sshd: BRUTE_FORCE, 'auth-json': BRUTE_FORCE },
  spray: {
    sshd: ['password_spray', 'brute_force_from_source'],
    'auth-json': ['password_spray', 'brute_force_from_source'],
  },
  success: {
    sshd: ['success_after_brute_force', ...BRUTE_FORCE],
    'auth-json': ['success_after_brute_force', ...BRUTE_FORCE],
  },
  portscan: { zeek: ['port_scan_vertical', SURICATA_ALERT_MEDIUM] },
  sweep: { zeek: ['port_sweep_horizontal'] },
  beacon: { zeek: [] as string[] },
  threat: { 'threat-json': [THREAT_CRITICAL, THREAT_HIGH] },
  'web-bruteforce': { web: ['web_login_brute_force', 'web_auth_flood', WEB_SUSP_RESP_CODES] },
} as const;
