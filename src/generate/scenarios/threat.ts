import { ENDPOINTS } from '../entities.ts';
import { type ThreatSeverity, threatJsonLine } from '../threat-json.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';

/** An intrusion on one endpoint as the threat-analyzer seed's events describe it. */
const CHAIN: [string, ThreatSeverity][] = [
  ['unknown_process', 'low'],
  ['exploit_attempt', 'critical'],
  ['malware.exe', 'high'],
  ['credential_dumping', 'critical'],
  ['brute_force_attempt', 'critical'],
];

export const threat: AttackFactory = ({ rng, index }) => {
  const host = ENDPOINTS[(index * 7) % ENDPOINTS.length];
  const times = spaced(CHAIN.length, 5000, rng, 1000);
  return {
    scenario: 'threat',
    attacker: { host },
    targets: { hosts: [host], users: [], ports: [] },
    formats: ['threat-json'],
    expectedRules: [...EXPECTED_RULES.threat['threat-json']],
    steps: times.map((atMs, i) => ({ atMs, make: (t) => threatJsonLine(t, host, CHAIN[i][0], CHAIN[i][1]) })),
  };
};
