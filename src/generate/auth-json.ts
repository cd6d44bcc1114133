import { isoTime } from './time-format.ts';
import type { GeneratedItem } from './types.ts';

/**
 * The SOC-project seed's `auth_events` (seeds/002: a Python producer with modes random,
 * bruteforce, spray, success). The shape, one JSON object per line, keys in this order:
 *   {"timestamp": "2026-01-31T10:00:00.123Z", "user": "alice", "src_ip": "10.1.2.3",
 *    "outcome": "success" | "failure", "method": "password" | "publickey" | "mfa", "host": "vpn-gw-01"}
 * Python's json.dumps separators (", " and ": ") as the seed's producer writes them.
 */
export interface AuthEvent {
  user: string;
  srcIp: string;
  outcome: 'success' | 'failure';
  method: 'password' | 'publickey' | 'mfa';
  host: string;
}

export function authJsonLine(timeMs: number, e: AuthEvent): GeneratedItem {
  const line =
    `{"timestamp": "${isoTime(timeMs)}", "user": ${JSON.stringify(e.user)}, "src_ip": "${e.srcIp}", ` +
    `"outcome": "${e.outcome}", "method": "${e.method}", "host": ${JSON.stringify(e.host)}}`;
  return { format: 'auth-json', line, logTypeHint: 'auth', timeMs, key: e.srcIp };
}
