import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * API tokens: kept only as SHA-256 digests, compared in constant time. Roles are ordered:
 * viewer (read) < analyst (triage) < admin (SQL, rule reload).
 */
export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  name: string;
  role: Role;
  /** Hex digest of the token: the rate-limit key, never the token itself. */
  tokenHash: string;
}

export interface TokenTable {
  authenticate(authorization: string | undefined): Principal | null;
  size(): number;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** `SOCSTREAM_TOKEN_ALICE=analyst:s3cr3t…` → { name: alice, role: analyst, token }. */
export function tokensFromEnv(env: NodeJS.ProcessEnv): Array<{ name: string; role: Role; token: string }> {
  const out: Array<{ name: string; role: Role; token: string }> = [];
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('SOCSTREAM_TOKEN_') || !value) continue;
    const name = key.slice('SOCSTREAM_TOKEN_'.length).toLowerCase();
    const i = value.indexOf(':');
    const role = value.slice(0, i) as Role;
    const token = value.slice(i + 1);
    if (i < 0 || !ROLES.includes(role) || token.length < 16) {
      throw new ConfigError(
        `${key}: expected "<viewer|analyst|admin>:<token of at least 16 characters>". Fix: e.g. ${key}=analyst:$(openssl rand -hex 24)`,
      );
    }
    out.push({ name, role, token });
  }
  return out;
}

export function createTokenTable(config: Config['serve']['tokens'], env: NodeJS.ProcessEnv = {}): TokenTable {
  const entries: Array<{ digest: Buffer; principal: Principal }> = [];
  const add = (name: string, role: Role, hex: string) =>
    entries.push({ digest: Buffer.from(hex, 'hex'), principal: { name, role, tokenHash: hex } });
  config.forEach((t, i) => {
    if (!t.sha256 && !t.token) {
      throw new ConfigError(
        `serve.tokens[${i}]: needs sha256 or token. Fix: add sha256: <hex digest of the token>`,
      );
    }
    add(t.name, t.role, t.sha256 ?? sha256Hex(t.token as string));
  });
  for (const t of tokensFromEnv(env)) add(t.name, t.role, sha256Hex(t.token));
  return {
    authenticate(authorization) {
      if (!authorization?.startsWith('Bearer ')) return null;
      const presented = createHash('sha256').update(authorization.slice(7).trim()).digest();
      let found: Principal | null = null;
      // Compare against every entry (no early exit), each in constant time.
      for (const e of entries) if (timingSafeEqual(e.digest, presented)) found = e.principal;
      return found;
    },
    size: () => entries.length,
  };
}
