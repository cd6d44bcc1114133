import { InternalError } from '../core/errors.ts';
import type { Prng } from './prng.ts';

/**
 * The synthetic campus: clients, users, servers and the internet they talk to. Attackers come
 * from address ranges no normal entity uses (RFC 5737 TEST-NETs, 10.66.0.0/16 for compromised
 * internal hosts, 198.18.0.0/15 for command-and-control), so ground truth can be scored by entity.
 */
const FIRST = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
];
const LAST = ['smith', 'jones', 'garcia', 'chen', 'patel', 'kim', 'nguyen', 'muller', 'rossi', 'silva'];

/** 120 campus accounts, `alice.smith` style. */
export const USERS: readonly string[] = FIRST.flatMap((f) => LAST.map((l) => `${f}.${l}`));

/** 400 campus clients in 10.1.1.0–10.1.8.255. */
export const CLIENTS: readonly string[] = Array.from(
  { length: 400 },
  (_, i) => `10.1.${1 + Math.floor(i / 50)}.${10 + (i % 50)}`,
);

export interface Server {
  ip: string;
  name: string;
  /** [port, Zeek service, transport] */
  services: readonly [number, string, 'tcp' | 'udp'][];
}

export const DNS_SERVERS: readonly string[] = ['10.0.0.10', '10.0.0.11'];

export const SERVERS: readonly Server[] = [
  {
    ip: '10.0.0.20',
    name: 'www.campus.example.edu',
    services: [
      [443, 'ssl', 'tcp'],
      [80, 'http', 'tcp'],
    ],
  },
  { ip: '10.0.0.21', name: 'portal.campus.example.edu', services: [[443, 'ssl', 'tcp']] },
  { ip: '10.0.0.22', name: 'bastion.campus.example.edu', services: [[22, 'ssh', 'tcp']] },
  {
    ip: '10.0.0.25',
    name: 'mail.campus.example.edu',
    services: [
      [993, 'ssl', 'tcp'],
      [25, 'smtp', 'tcp'],
    ],
  },
  { ip: '10.0.0.30', name: 'files.campus.example.edu', services: [[445, 'smb', 'tcp']] },
  { ip: '10.0.0.31', name: 'ldap.campus.example.edu', services: [[636, 'ssl', 'tcp']] },
];

export interface Site {
  ip: string;
  domain: string;
}

export const SITES: readonly Site[] = [
  { ip: '142.250.72.14', domain: 'www.google.com' },
  { ip: '140.82.112.4', domain: 'github.com' },
  { ip: '151.101.1.140', domain: 'www.reddit.com' },
  { ip: '13.107.42.14', domain: 'outlook.office365.com' },
  { ip: '104.16.132.229', domain: 'cdnjs.cloudflare.com' },
  { ip: '208.80.154.224', domain: 'en.wikipedia.org' },
  { ip: '23.215.0.136', domain: 'www.example.com' },
  { ip: '52.94.236.248', domain: 'aws.amazon.com' },
  { ip: '199.232.38.132', domain: 'deb.debian.org' },
  { ip: '31.13.71.36', domain: 'www.facebook.com' },
  { ip: '17.253.144.10', domain: 'www.apple.com' },
  { ip: '185.199.108.153', domain: 'docs.github.io' },
];

/** sshd hosts writing auth.log. */
export const SSH_HOSTS: readonly string[] = ['bastion-01', 'login-02', 'hpc-login'];
export const AUTH_HOSTS: readonly string[] = ['vpn-gw-01', 'sso-idp', 'mail-imap'];
export const ENDPOINTS: readonly string[] = Array.from(
  { length: 40 },
  (_, i) => `endpoint${String(i + 1).padStart(2, '0')}`,
);

export const USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

/** Ephemeral source port (Linux default range). */
export function ephemeralPort(rng: Prng): number {
  return rng.range(32768, 60999);
}

/** Attacker address ranges by scenario; `index` cycles through 1..120 of the range. */
const ATTACKER_RANGES: Record<string, (n: number) => string> = {
  bruteforce: (n) => `203.0.113.${n}`,
  spray: (n) => `198.51.100.${n}`,
  success: (n) => `192.0.2.${n}`,
  'web-bruteforce': (n) => `203.0.113.${130 + (n % 120)}`,
  portscan: (n) => `10.66.1.${n}`,
  sweep: (n) => `10.66.2.${n}`,
  beacon: (n) => `10.66.3.${n}`,
};

export function attackerIp(scenario: string, index: number): string {
  const range = ATTACKER_RANGES[scenario];
  if (!range) throw new InternalError(`no attacker range for ${scenario}`);
  return range(1 + (index % 120));
}

/** Command-and-control servers for beacons. */
export function c2Ip(index: number): string {
  return `198.18.${index % 250}.${10 + (index % 7)}`;
}

/**
 * Keeps normal traffic normal: an entity (user or source IP) may fail at most once per window,
 * so no benign entity ever looks like a brute force, however long the run.
 */
export class FailureBudget {
  readonly #lastFailure = new Map<string, number>();
  readonly #windowMs: number;
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }
  /** True (and recorded) when every entity may fail now. */
  allow(timeMs: number, ...entities: string[]): boolean {
    for (const e of entities) {
      const last = this.#lastFailure.get(e);
      if (last !== undefined && timeMs - last < this.#windowMs) return false;
    }
    for (const e of entities) this.#lastFailure.set(e, timeMs);
    return true;
  }
}
