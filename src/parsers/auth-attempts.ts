import type { AttemptKind } from './sshd-messages.ts';

/**
 * Login attempts, counted once however many lines the daemon writes for one.
 *
 * OpenSSH with PAM writes, for one password guess by an unknown user (auth2.c, auth.c,
 * auth-pam.c, pam_unix): `Invalid user x from …` (once per connection, at the first userauth
 * request), `pam_unix(sshd:auth): authentication failure; …` (PAM's verdict, per guess) and
 * `Failed password for invalid user x from …` (auth_log, per guess). A host that logs to two files
 * (RHEL's /var/log/messages vs secure, loghub's Linux_2k) may keep only the PAM line; rsyslog may
 * fold repeats into `message repeated N times: [ … ]`; at the end pam_unix may report
 * `PAM N more authentication failures` (the total it counted, minus one).
 *
 * So each connection (host + program + pid: sshd logs all of these from its monitor process)
 * keeps one count per witness: `probe` (user look-ups refused: `Invalid user`, `not allowed
 * because`: getpwnamallow() logs one per connection, so normally 0 or 1), `pam` (PAM failure lines, raised to N+1 by `PAM N more`) and `failed` (sshd's
 * Failed password / keyboard-interactive lines). The connection's attempts are the largest of the
 * three; each line carries `auth_attempts` = how much it raised that largest count (0 when it
 * repeats an attempt another line already counted). Summed over a connection this is the attempt
 * count whichever lines survived. A connection's end (closed, disconnected) starts a new count for
 * a reused pid, except for PAM's closing summary; sessions idle for 30 minutes start afresh, and
 * beyond a bound the oldest are dropped (memory stays flat on endless streams).
 */
interface Session {
  probe: number;
  pam: number;
  failed: number;
  lastMs: number;
  /** The connection's end was logged; only PAM's closing `N more` summary still belongs to it. */
  closed: boolean;
}

/** A pid reused after this gap is a new connection. */
const IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 16_384;

export class AttemptCounter {
  private readonly sessions = new Map<string, Session>();

  /** The attempts this line adds to its connection's count. */
  count(key: string, kind: AttemptKind, total: number, timeMs: number): number {
    let s = this.sessions.get(key);
    if (s === undefined || timeMs - s.lastMs > IDLE_MS || (s.closed && kind !== 'pam_total')) {
      if (s === undefined && this.sessions.size >= MAX_SESSIONS) {
        const oldest = this.sessions.keys().next().value;
        if (oldest !== undefined) this.sessions.delete(oldest);
      }
      s = { probe: 0, pam: 0, failed: 0, lastMs: timeMs, closed: false };
      this.sessions.set(key, s);
    }
    s.lastMs = timeMs;
    const before = Math.max(s.probe, s.pam, s.failed);
    if (kind === 'probe') s.probe++;
    else if (kind === 'pam') s.pam++;
    else if (kind === 'pam_total') s.pam = Math.max(s.pam, total);
    else s.failed++;
    return Math.max(s.probe, s.pam, s.failed) - before;
  }

  /** The connection ended: the next attempt under this key (a reused pid) is a new connection. */
  close(key: string): void {
    const s = this.sessions.get(key);
    if (s !== undefined) s.closed = true;
  }

  get size(): number {
    return this.sessions.size;
  }
}
