import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { basename, dirname, extname } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { Fields } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Severity } from '../normalize/fields.ts';
import { parseCsv } from './csv.ts';

/**
 * IOC lists: IPs, CIDRs, domains (a listed domain matches its subdomains), URLs (scheme-less,
 * host lowercased) and file hashes (MD5/SHA-1/SHA-256, lowercase hex). A list is a text file (one
 * indicator per line, `#` comments) or a CSV with an `indicator` column (optional `kind`,
 * `severity`). Lists are indexed into one lookup structure; when a file changes it is re-read and the
 * index swapped atomically, so an event sees either the old or the new list, never half of one.
 */
export type IocKind = 'ip' | 'cidr' | 'domain' | 'url' | 'hash';
export interface IocListConfig {
  name: string;
  path: string;
  kind: IocKind | 'auto';
  severity: Severity;
}
export interface IocMatch {
  list: string;
  indicator: string;
  kind: IocKind;
  field: string;
  severity: Severity;
}

interface Entry {
  list: string;
  indicator: string;
  kind: IocKind;
  severity: Severity;
}

const HASH_RE = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;
const SEVERITIES = new Set(['info', 'low', 'medium', 'high', 'critical']);

/** Which normalized fields are checked against which kind. */
const IP_FIELDS = ['src_ip', 'dst_ip'] as const;
const DOMAIN_FIELDS = ['dns_query', 'http_host', 'tls_sni'] as const;
const HASH_FIELDS = ['file_md5', 'file_sha1', 'file_sha256', 'tls_ja3', 'tls_ja3s', 'ssh_hassh'] as const;

export function detectKind(indicator: string): IocKind | undefined {
  if (isIP(indicator)) return 'ip';
  if (ipaddr.isValidCIDR(indicator)) return 'cidr';
  if (indicator.includes('://')) return 'url';
  if (HASH_RE.test(indicator.toLowerCase())) return 'hash';
  if (/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(indicator)) return 'domain';
  return undefined;
}

/** URLs compare without the scheme, host lowercased: "HTTP://Evil.com/x" ≡ "evil.com/x". */
export function urlKey(url: string): string {
  const schemeEnd = url.indexOf('://');
  const rest = schemeEnd >= 0 ? url.slice(schemeEnd + 3) : url;
  const slash = rest.indexOf('/');
  return slash < 0 ? rest.toLowerCase() : rest.slice(0, slash).toLowerCase() + rest.slice(slash);
}

const canonicalIp = (ip: string): string => ipaddr.process(ip).toString();
const stripDot = (d: string): string => (d.endsWith('.') ? d.slice(0, -1) : d).toLowerCase();

export interface IocIndex {
  readonly size: number;
  match(normalized: Fields): IocMatch[];
}

/** Build the lookup structure from parsed entries (pure; used on every (re)load). */
export function buildIocIndex(entries: readonly Entry[]): IocIndex {
  const exact = new Map<string, Entry[]>(); // ip, domain, url, hash keys are disjoint by shape
  const cidrs: { entry: Entry; list: BlockList }[] = [];
  // One list of every CIDR answers the common case (no CIDR contains the address) in one check.
  const anyCidr = new BlockList();
  const add = (key: string, e: Entry): void => {
    const existing = exact.get(key);
    if (existing) existing.push(e);
    else exact.set(key, [e]);
  };
  for (const e of entries) {
    if (e.kind === 'ip') add(`ip:${canonicalIp(e.indicator)}`, e);
    else if (e.kind === 'domain') add(`d:${stripDot(e.indicator)}`, e);
    else if (e.kind === 'url') add(`u:${urlKey(e.indicator)}`, e);
    else if (e.kind === 'hash') add(`h:${e.indicator.toLowerCase()}`, e);
    else {
      const [addr, bits] = ipaddr.parseCIDR(e.indicator);
      const list = new BlockList();
      list.addSubnet(addr.toString(), bits, addr.kind());
      anyCidr.addSubnet(addr.toString(), bits, addr.kind());
      cidrs.push({ entry: e, list });
    }
  }
  // Per-address hits (exact + CIDR), cached: addresses repeat heavily and a CIDR scan is the
  // costly part of matching. Bounded; cleared when full. The cache lives and dies with the index.
  const ipCache = new Map<string, Entry[]>();
  const ipHits = (text: string, kind: 'ipv4' | 'ipv6'): Entry[] => {
    let hits = ipCache.get(text);
    if (hits !== undefined) return hits;
    hits = exact.get(`ip:${text}`) ?? [];
    if (cidrs.length > 0 && anyCidr.check(text, kind)) {
      hits = [...hits];
      for (const c of cidrs) if (c.list.check(text, kind)) hits.push(c.entry);
    }
    if (ipCache.size >= 65_536) ipCache.clear();
    ipCache.set(text, hits);
    return hits;
  };
  const push = (out: IocMatch[], found: Entry[] | undefined, field: string): void => {
    if (found === undefined) return;
    for (const e of found)
      out.push({ list: e.list, indicator: e.indicator, kind: e.kind, field, severity: e.severity });
  };
  return {
    size: entries.length,
    match(n) {
      const out: IocMatch[] = [];
      if (entries.length === 0) return out;
      for (const field of IP_FIELDS) {
        const ip = n[field];
        if (typeof ip !== 'string') continue;
        // IPv4 text is already canonical; IPv6 (and ::ffff: mapped IPv4) is canonicalized.
        const family = isIP(ip);
        if (family === 0) continue;
        const text = family === 4 ? ip : canonicalIp(ip);
        const kind = family === 4 || !text.includes(':') ? 'ipv4' : 'ipv6';
        const hits = ipHits(text, kind);
        if (hits.length > 0) push(out, hits, field);
      }
      for (const field of DOMAIN_FIELDS) {
        const value = n[field];
        if (typeof value !== 'string' || value === '') continue;
        // a.b.example.com is checked as a.b.example.com, b.example.com, example.com, com.
        let name = stripDot(value);
        for (;;) {
          push(out, exact.get(`d:${name}`), field);
          const dot = name.indexOf('.');
          if (dot < 0) break;
          name = name.slice(dot + 1);
        }
      }
      const url = n.url;
      if (typeof url === 'string' && url !== '') {
        const host = n.http_host;
        const key = url.includes('://')
          ? urlKey(url)
          : typeof host === 'string'
            ? urlKey(`${host}${url}`)
            : undefined;
        if (key !== undefined) push(out, exact.get(`u:${key}`), 'url');
      }
      for (const field of HASH_FIELDS) {
        const value = n[field];
        if (typeof value === 'string') push(out, exact.get(`h:${value.toLowerCase()}`), field);
      }
      return out;
    },
  };
}

/** Parse one list file's text into entries; unrecognisable lines are returned as `skipped`. */
export function parseIocList(config: IocListConfig, text: string): { entries: Entry[]; skipped: number } {
  const entries: Entry[] = [];
  let skipped = 0;
  const addIndicator = (
    raw: string,
    kindHint: string | undefined,
    severityHint: string | undefined,
  ): void => {
    const indicator = raw.trim();
    if (indicator === '') return;
    const kind = (
      kindHint && kindHint !== 'auto'
        ? kindHint
        : config.kind !== 'auto'
          ? config.kind
          : detectKind(indicator)
    ) as IocKind | undefined;
    const valid =
      kind === 'ip'
        ? isIP(indicator) !== 0
        : kind === 'cidr'
          ? ipaddr.isValidCIDR(indicator)
          : kind === 'domain' || kind === 'url' || kind === 'hash';
    if (!valid || kind === undefined) {
      skipped++;
      return;
    }
    const severity =
      severityHint && SEVERITIES.has(severityHint) ? (severityHint as Severity) : config.severity;
    entries.push({ list: config.name, indicator, kind, severity });
  };
  if (extname(config.path).toLowerCase() === '.csv') {
    const { header, rows } = parseCsv(text);
    const at = (name: string): number => header.indexOf(name);
    const named = ['indicator', 'ioc', 'value'].map(at).find((c) => c >= 0);
    const col = named ?? 0;
    const kindCol = at('kind') >= 0 ? at('kind') : at('type');
    const sevCol = at('severity');
    for (const row of rows) {
      addIndicator(
        row[col] ?? '',
        kindCol >= 0 ? row[kindCol]?.toLowerCase() : undefined,
        sevCol >= 0 ? row[sevCol]?.toLowerCase() : undefined,
      );
    }
  } else {
    for (const line of text.split(/\r?\n/)) {
      const hash = line.indexOf('#');
      addIndicator(hash >= 0 ? line.slice(0, hash) : line, undefined, undefined);
    }
  }
  return { entries, skipped };
}

export interface IocStore {
  /** The current index; replaced as a whole on reload. */
  index(): IocIndex;
  /** Load every list once (throws on a missing file: a config error at start). */
  load(): Promise<void>;
  /** Watch the list files and reload the ones that change. */
  watch(): void;
  close(): void;
}

export function createIocStore(
  lists: readonly IocListConfig[],
  options: { logger?: Logger; debounceMs?: number; onReload?: (list: string, size: number) => void } = {},
): IocStore {
  const perList = new Map<string, Entry[]>();
  let current = buildIocIndex([]);
  const watchers: FSWatcher[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  const rebuild = (): void => {
    current = buildIocIndex([...perList.values()].flat());
  };
  const loadList = async (list: IocListConfig): Promise<void> => {
    const text = await readFile(list.path, 'utf8');
    const { entries, skipped } = parseIocList(list, text);
    perList.set(list.name, entries);
    if (skipped > 0)
      options.logger?.warn({ list: list.name, skipped }, 'IOC lines not recognised as an indicator');
  };
  const reload = async (list: IocListConfig): Promise<void> => {
    try {
      await loadList(list);
      rebuild();
      options.logger?.info(
        { list: list.name, indicators: perList.get(list.name)?.length },
        'IOC list reloaded',
      );
      options.onReload?.(list.name, perList.get(list.name)?.length ?? 0);
    } catch (error) {
      // A list being rewritten may be missing for a moment: keep the previous version.
      options.logger?.warn(
        { list: list.name, err: (error as Error).message },
        'IOC list reload failed; keeping the previous one',
      );
    }
  };
  return {
    index: () => current,
    async load() {
      for (const list of lists) {
        try {
          await loadList(list);
        } catch (error) {
          throw new ConfigError(
            `enrich.ioc "${list.name}": cannot read ${list.path}: ${(error as Error).message}; fix the path or remove the list`,
          );
        }
      }
      rebuild();
    },
    watch() {
      // Watch the folder, not the file: editors and deploy tools replace files by rename, which
      // ends a watch on the old inode.
      const byDir = new Map<string, IocListConfig[]>();
      for (const list of lists) {
        const dir = dirname(list.path);
        byDir.set(dir, [...(byDir.get(dir) ?? []), list]);
      }
      for (const [dir, dirLists] of byDir) {
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          for (const list of dirLists) {
            if (filename !== null && filename !== basename(list.path)) continue;
            clearTimeout(timers.get(list.name));
            timers.set(
              list.name,
              setTimeout(() => void reload(list), options.debounceMs ?? 100),
            );
          }
        });
        watchers.push(watcher);
      }
    },
    close() {
      for (const w of watchers) w.close();
      watchers.length = 0;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
