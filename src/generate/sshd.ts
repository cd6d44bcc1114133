import { syslogTime } from './time-format.ts';
import type { GeneratedItem, WriteContext } from './types.ts';

/**
 * sshd lines as rsyslog writes them to /var/log/auth.log (RFC 3164 without PRI):
 * `Feb 20 08:35:22 slave22 sshd[5774]: Failed password for root from 216.160.83.57 port 29160 ssh2`.
 * Message texts are OpenSSH's (auth.c / auth2.c), as in /work/shared/data/auth.
 */
export type SshdMessage =
  | { kind: 'failed'; user: string; invalidUser: boolean; ip: string; port: number }
  | { kind: 'accepted'; user: string; method: 'password' | 'publickey'; ip: string; port: number }
  | { kind: 'invalid_user'; user: string; ip: string; port: number }
  | { kind: 'session_opened'; user: string }
  | { kind: 'disconnected'; user: string; ip: string; port: number };

function text(ctx: WriteContext, m: SshdMessage): string {
  switch (m.kind) {
    case 'failed':
      return `Failed password for ${m.invalidUser ? 'invalid user ' : ''}${m.user} from ${m.ip} port ${m.port} ssh2`;
    case 'accepted':
      return m.method === 'password'
        ? `Accepted password for ${m.user} from ${m.ip} port ${m.port} ssh2`
        : `Accepted publickey for ${m.user} from ${m.ip} port ${m.port} ssh2: ED25519 SHA256:${fingerprint(ctx)}`;
    case 'invalid_user':
      return `Invalid user ${m.user} from ${m.ip} port ${m.port}`;
    case 'session_opened':
      return `pam_unix(sshd:session): session opened for user ${m.user}(uid=${1000 + (m.user.length % 50)}) by (uid=0)`;
    case 'disconnected':
      return `Disconnected from user ${m.user} ${m.ip} port ${m.port}`;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function fingerprint(ctx: WriteContext): string {
  let s = '';
  for (let i = 0; i < 43; i++) s += B64[ctx.rng.int(64)];
  return s;
}

export function sshdLine(
  ctx: WriteContext,
  timeMs: number,
  host: string,
  pid: number,
  m: SshdMessage,
): GeneratedItem {
  const line = `${syslogTime(timeMs)} ${host} sshd[${pid}]: ${text(ctx, m)}`;
  const key = 'ip' in m ? m.ip : m.user;
  return { format: 'sshd', line, logTypeHint: 'auth', timeMs, key };
}
