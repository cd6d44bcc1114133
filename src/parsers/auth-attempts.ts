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

/**
 * Sessions by logger (host + program) then by connection (pid, or the source when there is no
 * pid): two plain look-ups instead of building one key string per line.
 */
export class AttemptCounter {
  private readonly loggers = new Map<string, Map<number | string, Session>>();
  private size_ = 0;
  private lastLogger = '';
  private lastHost = '';
  private lastService = '';
  private lastSessions: Map<number | string, Session> | undefined;

  private sessionsOf(host: string, service: string): Map<number | string, Session> {
    if (this.lastSessions !== undefined && host === this.lastHost && service === this.lastService)
      return this.lastSessions;
    const logger = `${host}\u0000${service}`;
    let sessions = this.loggers.get(logger);
    if (sessions === undefined) {
      sessions = new Map();
      this.loggers.set(logger, sessions);
    }
    this.lastLogger = logger;
    this.lastHost = host;
    this.lastService = service;
    this.lastSessions = sessions;
    return sessions;
  }

  /** The attempts this line adds to its connection's count. */
  count(
    host: string,
    service: string,
    conn: number | string,
    kind: AttemptKind,
    total: number,
    timeMs: number,
  ): number {
    const sessions = this.sessionsOf(host, service);
    let s = sessions.get(conn);
    if (s === undefined || timeMs - s.lastMs > IDLE_MS || (s.closed && kind !== 'pam_total')) {
      if (s === undefined) {
        if (this.size_ >= MAX_SESSIONS) this.evictOldest();
        this.size_++;
      }
      s = { probe: 0, pam: 0, failed: 0, lastMs: timeMs, closed: false };
      sessions.set(conn, s);
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
  close(host: string, service: string, conn: number | string): void {
    const s = this.sessionsOf(host, service).get(conn);
    if (s !== undefined) s.closed = true;
  }

  /** Drops the first session of the first logger (insertion order: the oldest). */
  private evictOldest(): void {
    for (const [logger, sessions] of this.loggers) {
      const first = sessions.keys().next();
      if (!first.done) {
        sessions.delete(first.value);
        this.size_--;
      }
      if (sessions.size === 0) {
        this.loggers.delete(logger);
        if (this.lastLogger === logger) this.lastSessions = undefined;
      }
      return;
    }
  }

  get size(): number {
    return this.size_;
  }
}
