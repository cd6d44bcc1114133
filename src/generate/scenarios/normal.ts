import { appJsonLine } from '../app-json.ts';
import { authJsonLine } from '../auth-json.ts';
import {
  AUTH_HOSTS,
  CLIENTS,
  DNS_SERVERS,
  ENDPOINTS,
  ephemeralPort,
  FailureBudget,
  SERVERS,
  SITES,
  SSH_HOSTS,
  USER_AGENTS,
  USERS,
} from '../entities.ts';
import { nginxLine } from '../nginx.ts';
import { hex, type Prng, zeekUid } from '../prng.ts';
import { sshdLine } from '../sshd.ts';
import { eveDns, eveFlow, eveHttp, eveTls } from '../suricata.ts';
import { threatJsonLine } from '../threat-json.ts';
import type { GeneratedItem, WriteContext } from '../types.ts';
import { zeekLine } from '../zeek.ts';

/**
 * Normal campus background: Zeek and Suricata network metadata, sshd and SSO logins, the web
 * portal's nginx and FastAPI logs, low-severity endpoint threat events. Benign by construction:
 * clients talk to a small pool of servers and sites (no sweep or scan shape), connection
 * failures and login failures are rare and capped per entity (FailureBudget), threat events are
 * low/medium only. `normal` runs must raise no alert.
 */
const FAILURE_WINDOW_MS = 15 * 60_000;
const PAGES = [
  '/',
  '/courses',
  '/library/search?q=kafka',
  '/news/2026/campus-week',
  '/static/app.js',
  '/favicon.ico',
];
const DOMAINS = [...SITES.map((s) => s.domain), 'portal.campus.example.edu', 'mail.campus.example.edu'];
const BENIGN_THREATS = ['unknown_process', 'adware.toolbar', 'pup.optimizer', 'suspicious_macro_blocked'];

type Emit = (timeMs: number) => GeneratedItem;

export function createBackground(ctx: WriteContext, rng: Prng): Emit {
  const failures = new FailureBudget(FAILURE_WINDOW_MS);
  const client = () => rng.pick(CLIENTS);
  const tuple = (srcIp: string, destIp: string, destPort: number, proto: 'TCP' | 'UDP' = 'TCP') => ({
    srcIp,
    srcPort: ephemeralPort(rng),
    destIp,
    destPort,
    proto,
  });

  const conn: Emit = (t) => {
    const src = client();
    const external = rng.chance(0.6);
    const server = rng.pick(SERVERS);
    const [port, service] = external ? [443, 'ssl'] : rng.pick(server.services);
    const dst = external ? rng.pick(SITES).ip : server.ip;
    // A rare refused or unanswered connection, at most one per client per window.
    const failed = rng.chance(0.01) && failures.allow(t, `conn:${src}`);
    const state = failed ? rng.pick(['REJ', 'S0'] as const) : 'SF';
    const origBytes = failed ? 0 : rng.range(200, 4000);
    const respBytes = failed ? 0 : rng.range(500, 200_000);
    const origPkts = failed ? 1 : rng.range(4, 40);
    const respPkts = failed ? (state === 'REJ' ? 1 : 0) : rng.range(4, 160);
    return zeekLine(
      ctx,
      'conn',
      t,
      [
        rng.int(1000),
        zeekUid(rng),
        src,
        ephemeralPort(rng),
        dst,
        port,
        'tcp',
        failed ? undefined : service,
        failed ? undefined : rng.range(10, 30_000) / 1000,
        failed ? undefined : origBytes,
        failed ? undefined : respBytes,
        state,
        true,
        !external,
        0,
        failed ? (state === 'REJ' ? 'Sr' : 'S') : 'ShADadFf',
        origPkts,
        origPkts * 52 + origBytes,
        respPkts,
        respPkts * 52 + respBytes,
        undefined,
      ],
      src,
    );
  };

  const dns: Emit = (t) => {
    const src = client();
    const domain = rng.pick(DOMAINS);
    const site = SITES.find((s) => s.domain === domain);
    return zeekLine(
      ctx,
      'dns',
      t,
      [
        rng.int(1000),
        zeekUid(rng),
        src,
        ephemeralPort(rng),
        rng.pick(DNS_SERVERS),
        53,
        'udp',
        rng.int(65536),
        rng.range(200, 40_000) / 1_000_000,
        domain,
        1,
        'C_INTERNET',
        1,
        'A',
        0,
        'NOERROR',
        false,
        false,
        true,
        true,
        0,
        [site?.ip ?? '10.0.0.20'],
        [rng.range(60, 3600)],
        false,
      ],
      src,
    );
  };

  const http: Emit = (t) => {
    const src = client();
    const path = rng.pick(PAGES);
    return zeekLine(
      ctx,
      'http',
      t,
      [
        rng.int(1000),
        zeekUid(rng),
        src,
        ephemeralPort(rng),
        '10.0.0.20',
        80,
        1,
        'GET',
        'www.campus.example.edu',
        path,
        undefined,
        '1.1',
        rng.pick(USER_AGENTS),
        0,
        rng.range(300, 90_000),
        200,
        'OK',
        [],
        ['text/html'],
      ],
      src,
    );
  };

  const ssl: Emit = (t) => {
    const src = client();
    const site = rng.pick(SITES);
    return zeekLine(
      ctx,
      'ssl',
      t,
      [
        rng.int(1000),
        zeekUid(rng),
        src,
        ephemeralPort(rng),
        site.ip,
        443,
        'TLSv13',
        'TLS_AES_128_GCM_SHA256',
        'x25519',
        site.domain,
        rng.chance(0.3),
        undefined,
        undefined,
        true,
        'CsiI',
        [],
        [],
        undefined,
        undefined,
      ],
      src,
    );
  };

  const zeekSsh: Emit = (t) => {
    const src = client();
    return zeekLine(
      ctx,
      'ssh',
      t,
      [
        rng.int(1000),
        zeekUid(rng),
        src,
        ephemeralPort(rng),
        '10.0.0.22',
        22,
        2,
        true,
        1,
        'INBOUND',
        'SSH-2.0-OpenSSH_9.6',
        'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
        'chacha20-poly1305@openssh.com',
        'umac-64-etm@openssh.com',
        'none',
        'curve25519-sha256',
        'ssh-ed25519',
        hex(rng, 32).replace(/(..)(?!$)/g, '$1:'),
      ],
      src,
    );
  };

  const eveFlowE: Emit = (t) => {
    const site = rng.pick(SITES);
    return eveFlow(ctx, t, tuple(client(), site.ip, 443), {
      pktsToServer: rng.range(5, 40),
      pktsToClient: rng.range(5, 120),
      bytesToServer: rng.range(800, 9000),
      bytesToClient: rng.range(2000, 300_000),
      durationMs: rng.range(50, 20_000),
      state: 'closed',
      reason: 'timeout',
      appProto: 'tls',
    });
  };
  const eveDnsE: Emit = (t) =>
    eveDns(ctx, t, tuple(client(), rng.pick(DNS_SERVERS), 53, 'UDP'), {
      id: rng.int(65536),
      rrname: rng.pick(DOMAINS),
      rrtype: rng.pick(['A', 'AAAA']),
    });
  const eveHttpE: Emit = (t) =>
    eveHttp(ctx, t, tuple(client(), '10.0.0.20', 80), {
      hostname: 'www.campus.example.edu',
      url: rng.pick(PAGES),
      userAgent: rng.pick(USER_AGENTS),
      method: 'GET',
      status: 200,
      length: rng.range(300, 90_000),
      contentType: 'text/html',
    });
  const eveTlsE: Emit = (t) => {
    const site = rng.pick(SITES);
    return eveTls(ctx, t, tuple(client(), site.ip, 443), {
      sni: site.domain,
      version: 'TLS 1.3',
      subject: `CN=${site.domain}`,
      issuer: "C=US, O=Let's Encrypt, CN=R11",
      ja3: hex(rng, 32),
    });
  };

  const sshd: Emit = (t) => {
    const src = client();
    const user = rng.pick(USERS);
    const host = rng.pick(SSH_HOSTS);
    const pid = rng.range(1000, 3_999_999);
    const port = ephemeralPort(rng);
    // A typo now and then (capped per user and source), otherwise a successful login.
    if (rng.chance(0.05) && failures.allow(t, `ssh-user:${user}`, `ssh-src:${src}`))
      return sshdLine(ctx, t, host, pid, { kind: 'failed', user, invalidUser: false, ip: src, port });
    if (rng.chance(0.2)) return sshdLine(ctx, t, host, pid, { kind: 'session_opened', user });
    const method = rng.chance(0.5) ? 'publickey' : 'password';
    return sshdLine(ctx, t, host, pid, { kind: 'accepted', user, method, ip: src, port });
  };

  const auth: Emit = (t) => {
    const src = client();
    const user = rng.pick(USERS);
    const fail = rng.chance(0.05) && failures.allow(t, `auth-user:${user}`, `auth-src:${src}`);
    return authJsonLine(t, {
      user,
      srcIp: src,
      outcome: fail ? 'failure' : 'success',
      method: rng.pick(['password', 'mfa', 'publickey'] as const),
      host: rng.pick(AUTH_HOSTS),
    });
  };

  const nginx: Emit = (t) => {
    const src = client();
    if (rng.chance(0.1)) {
      const fail = rng.chance(0.1) && failures.allow(t, `web-src:${src}`);
      return nginxLine(t, {
        clientIp: src,
        method: 'POST',
        path: '/login',
        status: fail ? 401 : 302,
        bytes: fail ? 188 : 0,
        referrer: 'https://portal.campus.example.edu/login',
        userAgent: rng.pick(USER_AGENTS),
      });
    }
    const path = rng.pick(PAGES);
    const missing = path === '/favicon.ico' && rng.chance(0.5);
    return nginxLine(t, {
      clientIp: src,
      method: 'GET',
      path,
      status: missing ? 404 : rng.chance(0.2) ? 304 : 200,
      bytes: missing ? 153 : rng.range(200, 60_000),
      referrer: rng.chance(0.5) ? 'https://portal.campus.example.edu/' : undefined,
      userAgent: rng.pick(USER_AGENTS),
    });
  };

  const app: Emit = (t) => {
    const src = client();
    const user = rng.pick(USERS);
    const fail = rng.chance(0.05) && failures.allow(t, `app-user:${user}`, `app-src:${src}`);
    return appJsonLine(t, {
      event: fail ? 'login_failed' : 'login_success',
      username: user,
      userId: fail ? null : 1000 + USERS.indexOf(user),
      role: fail ? null : rng.chance(0.1) ? 'staff' : 'student',
      ip: src,
      reason: fail ? 'invalid_password' : null,
      deviceType: rng.chance(0.3) ? 'mobile' : 'desktop',
      browser: rng.pick(['Chrome', 'Firefox', 'Safari']),
      os: rng.pick(['Windows', 'macOS', 'Linux', 'iOS']),
      durationMs: rng.range(20, 400) + rng.int(100) / 100,
      status: fail ? 401 : 200,
      failedAttemptsWindow: fail ? 1 : null,
      retryAfter: null,
    });
  };

  const threat: Emit = (t) =>
    threatJsonLine(t, rng.pick(ENDPOINTS), rng.pick(BENIGN_THREATS), rng.chance(0.7) ? 'low' : 'medium');

  // Weights per 1000 events: a campus sensor sees mostly conn/dns/ssl.
  const table: [number, Emit][] = [
    [300, conn],
    [170, dns],
    [50, http],
    [100, ssl],
    [10, zeekSsh],
    [60, eveFlowE],
    [40, eveDnsE],
    [30, eveHttpE],
    [30, eveTlsE],
    [40, sshd],
    [40, auth],
    [80, nginx],
    [40, app],
    [10, threat],
  ];
  const cumulative: number[] = [];
  let sum = 0;
  for (const [w] of table) {
    sum += w;
    cumulative.push(sum);
  }
  return (t) => {
    const r = rng.int(sum);
    let i = 0;
    while (cumulative[i] <= r) i++;
    return table[i][1](t);
  };
}
