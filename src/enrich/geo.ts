import { type AsnResponse, type CityResponse, open, type Reader } from 'maxmind';
import type { Fields } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * Optional GeoIP/ASN from MaxMind-format databases (GeoLite2/GeoIP2 City and ASN) the user
 * provides, read with the maintained `maxmind` package (which caches lookups). Private, loopback and
 * other non-public addresses are skipped by the caller (they are never in these databases).
 */
export interface GeoEnricher {
  apply(normalized: Fields, enriched: Fields, isPublic: (ip: string) => boolean): void;
}

async function openDb<T extends CityResponse | AsnResponse>(path: string, key: string): Promise<Reader<T>> {
  try {
    return await open<T>(path, { cache: { max: 10_000 } });
  } catch (error) {
    throw new ConfigError(
      `enrich.geoip.${key}: cannot open ${path} as a MaxMind database: ${(error as Error).message}`,
    );
  }
}

export async function createGeoEnricher(options: {
  cityDb?: string;
  asnDb?: string;
}): Promise<GeoEnricher | undefined> {
  const city = options.cityDb ? await openDb<CityResponse>(options.cityDb, 'city_db') : undefined;
  const asn = options.asnDb ? await openDb<AsnResponse>(options.asnDb, 'asn_db') : undefined;
  if (!city && !asn) return undefined;
  const one = (ip: string, prefix: 'src' | 'dst', enriched: Fields): void => {
    if (city) {
      const r = city.get(ip);
      if (r) {
        if (r.country?.iso_code) enriched[`${prefix}_geo_country`] = r.country.iso_code;
        const name = r.city?.names?.en;
        if (name) enriched[`${prefix}_geo_city`] = name;
        if (r.location?.latitude !== undefined) enriched[`${prefix}_geo_lat`] = r.location.latitude;
        if (r.location?.longitude !== undefined) enriched[`${prefix}_geo_lon`] = r.location.longitude;
      }
    }
    if (asn) {
      const r = asn.get(ip);
      if (r) {
        if (r.autonomous_system_number !== undefined) enriched[`${prefix}_asn`] = r.autonomous_system_number;
        if (r.autonomous_system_organization) enriched[`${prefix}_as_org`] = r.autonomous_system_organization;
      }
    }
  };
  return {
    apply(normalized, enriched, isPublic) {
      if (typeof normalized.src_ip === 'string' && isPublic(normalized.src_ip))
        one(normalized.src_ip, 'src', enriched);
      if (typeof normalized.dst_ip === 'string' && isPublic(normalized.dst_ip))
        one(normalized.dst_ip, 'dst', enriched);
    },
  };
}
