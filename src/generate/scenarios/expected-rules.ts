/**
 * Which bundled rules (rules/, by Sigma `name`) should alert on each attack, by channel. Kept in
 * one table so the rule pack and the generator's ground truth can be checked against each other
 * (test/generate/ground-truth.test.ts warns about names missing from rules/).
 */
export const EXPECTED_RULES = {
  bruteforce: { sshd: ['ssh_brute_force'], 'auth-json': ['auth_brute_force'] },
  spray: { sshd: ['ssh_password_spray'], 'auth-json': ['auth_password_spray'] },
  success: { sshd: ['ssh_success_after_brute_force'], 'auth-json': ['auth_success_after_brute_force'] },
  portscan: { zeek: ['vertical_port_scan'] },
  sweep: { zeek: ['horizontal_sweep'] },
  beacon: { zeek: ['beaconing'] },
  threat: { 'threat-json': ['threat_high_critical'] },
  'web-bruteforce': { web: ['web_login_brute_force'] },
} as const;
