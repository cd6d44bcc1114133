import { readFile } from 'node:fs/promises';
import ipaddr from 'ipaddr.js';
import type { Fields } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';
import { parseCsv } from './csv.ts';

/**
 * Asset inventory: a CSV `ip_or_cidr,name,owner,criticality,tags` (tags separated by `;` or `|`).
 * An exact IP wins over a CIDR, and a longer prefix over a shorter one. Results are cached per IP.
 */
export interface Asset {
  name: string;
  owner?: string;
  criticality?: string;
  tags: string[];
}

interface CidrAsset {
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  asset: Asset;
}

export interface AssetTable {
  readonly size: number;
  lookup(ip: string): Asset | undefined;
  apply(normalized: Fields, enriched: Fields): void;
}

const CACHE_LIMIT = 65_536;

export function parseAssets(
  text: string,
  file = 'assets.csv',
): { exact: Map<string, Asset>; cidrs: CidrAsset[] } {
  const { header, rows } = parseCsv(text);
  const col = (...names: string[]): number => {
    for (const n of names) if (header.includes(n)) return header.indexOf(n);
    return -1;
  };
  const ipCol = col('ip_or_cidr', 'ip', 'cidr', 'address');
  const nameCol = col('name', 'hostname', 'asset');
  if (ipCol < 0 || nameCol < 0) {
    throw new ConfigError(
      `${file}: the header must name an ip_or_cidr and a name column (got: ${header.join(',')})`,
    );
  }
  const ownerCol = col('owner');
  const critCol = col('criticality');
  const tagsCol = col('tags');
  const exact = new Map<string, Asset>();
  const cidrs: CidrAsset[] = [];
  rows.forEach((row, i) => {
    const where = row[ipCol] ?? '';
    const asset: Asset = {
      name: row[nameCol] ?? '',
      tags:
        tagsCol >= 0 && row[tagsCol]
          ? row[tagsCol]
              .split(/[;|]/)
              .map((t) => t.trim())
              .filter(Boolean)
          : [],
    };
    if (ownerCol >= 0 && row[ownerCol]) asset.owner = row[ownerCol];
    if (critCol >= 0 && row[critCol]) asset.criticality = row[critCol].toLowerCase();
    if (ipaddr.isValid(where)) exact.set(ipaddr.process(where).toString(), asset);
    else if (ipaddr.isValidCIDR(where)) cidrs.push({ range: ipaddr.parseCIDR(where), asset });
    else throw new ConfigError(`${file}: line ${i + 2}: "${where}" is neither an IP nor a CIDR`);
  });
  cidrs.sort((a, b) => b.range[1] - a.range[1]);
  return { exact, cidrs };
}

export function createAssetTable(text: string, file?: string): AssetTable {
  const { exact, cidrs } = parseAssets(text, file);
  const cache = new Map<string, Asset | null>();
  const lookup = (ip: string): Asset | undefined => {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    let found: Asset | undefined;
    if (ipaddr.isValid(ip)) {
      const addr = ipaddr.process(ip);
      found = exact.get(addr.toString());
      if (found === undefined) {
        for (const c of cidrs) {
          if (c.range[0].kind() === addr.kind() && addr.match(c.range as never)) {
            found = c.asset;
            break;
          }
        }
      }
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(ip, found ?? null);
    return found;
  };
  return {
    size: exact.size + cidrs.length,
    lookup,
    apply(normalized, enriched) {
      if (typeof normalized.src_ip === 'string') {
        const a = lookup(normalized.src_ip);
        if (a) enriched.src_asset = a;
      }
      if (typeof normalized.dst_ip === 'string') {
        const a = lookup(normalized.dst_ip);
        if (a) enriched.dst_asset = a;
      }
    },
  };
}

export async function loadAssetTable(path: string): Promise<AssetTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`enrich.assets: cannot read ${path}: ${(error as Error).message}`);
  }
  return createAssetTable(text, path);
}
