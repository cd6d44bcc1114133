import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Fields } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * Network enrichment: the range class of src_ip/dst_ip (ipaddr.js's IANA special-purpose tables)
 * and, from the configured home networks (node:net BlockList), src/dst_in_home and direction.
 * IPs repeat heavily in real traffic, so per-IP results are cached (bounded; cleared when full).
 */
export type IpClass = 'public' | 'private' | 'loopback' | 'link_local' | 'multicast' | 'reserved';

/** ipaddr.js range names → our classes; anything not listed (documentation, benchmarking, ...) is reserved. */
const RANGE_CLASS: Readonly<Record<string, IpClass>> = {
  unicast: 'public',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  loopback: 'loopback',
  linkLocal: 'link_local',
  multicast: 'multicast',
  // Tunnelled/translated IPv6 forms carry public addresses.
  teredo: 'public',
  '6to4': 'public',
  rfc6145: 'public',
  rfc6052: 'public',
};

export interface IpInfo {
  readonly ipClass: IpClass;
  readonly inHome: boolean;
}

const CACHE_LIMIT = 65_536;

/**
 * Parse an address, unwrapping IPv4-mapped IPv6 (`::ffff:10.0.0.1` is 10.0.0.1). Only the strict
 * forms count (node:net isIP, inet_pton's rules): ipaddr.isValid also takes inet_aton's legacy
 * forms, so `192.030.0.6` would be octal 192.24.0.6 and `127.1` loopback; a log that writes
 * those has not written an address, and classing them would make up a range.
 */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (isIP(ip) === 0) return undefined;
  // Zone ids (fe80::1%eth0) are valid for ipaddr.js; the address part is what we classify.
  return ipaddr.process(ip);
}

export function classifyIp(addr: ipaddr.IPv4 | ipaddr.IPv6): IpClass {
  return RANGE_CLASS[addr.range()] ?? 'reserved';
}

export function createHomeNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    if (!ipaddr.isValidCIDR(cidr)) {
      throw new ConfigError(
        `enrich.home_networks: "${cidr}" is not a CIDR; write it like 10.0.0.0/8 or fc00::/7`,
      );
    }
    const [addr, bits] = ipaddr.parseCIDR(cidr);
    list.addSubnet(addr.toString(), bits, addr.kind() === 'ipv6' ? 'ipv6' : 'ipv4');
  }
  return list;
}

export interface NetworkEnricher {
  /** Class and home membership of one address, or undefined when it is not an IP. */
  info(ip: string): IpInfo | undefined;
  apply(normalized: Fields, enriched: Fields): void;
}

export function createNetworkEnricher(homeNetworks: readonly string[]): NetworkEnricher {
  const home = createHomeNetworks(homeNetworks);
  const cache = new Map<string, IpInfo | null>();
  const info = (ip: string): IpInfo | undefined => {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    const addr = parseIp(ip);
    let result: IpInfo | null = null;
    if (addr !== undefined) {
      const kind = addr.kind();
      result = {
        ipClass: classifyIp(addr),
        inHome: home.check(addr.toString(), kind === 'ipv6' ? 'ipv6' : 'ipv4'),
      };
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(ip, result);
    return result ?? undefined;
  };
  return {
    info,
    apply(normalized, enriched) {
      const src = typeof normalized.src_ip === 'string' ? info(normalized.src_ip) : undefined;
      const dst = typeof normalized.dst_ip === 'string' ? info(normalized.dst_ip) : undefined;
      if (src !== undefined) {
        enriched.src_ip_is_private = src.ipClass === 'private';
        enriched.src_ip_class = src.ipClass;
        enriched.src_in_home = src.inHome;
      }
      if (dst !== undefined) {
        enriched.dst_ip_is_private = dst.ipClass === 'private';
        enriched.dst_ip_class = dst.ipClass;
        enriched.dst_in_home = dst.inHome;
      }
      if (src !== undefined && dst !== undefined) {
        enriched.direction = src.inHome
          ? dst.inHome
            ? 'internal'
            : 'outbound'
          : dst.inHome
            ? 'inbound'
            : 'external';
      }
    },
  };
}
