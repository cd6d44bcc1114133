import { z } from 'zod';
import { d } from '../core/describe.ts';

/** `enrich:` in socstream.yaml, the enrich transform's config (src/enrich/enrich-transform.ts). */
export const enrichSchema = z
  .object({
    home_networks: d(
      z.array(z.string()).default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
      'CIDRs of your networks: they decide direction (inbound/outbound/internal/external)',
    ),
    timezone: d(z.string().default('UTC'), 'IANA time zone for the time parts (event_hour, ...)'),
    ioc: d(
      z
        .array(
          z
            .object({
              name: d(z.string(), 'List name, shown in enriched.ioc matches'),
              path: d(z.string(), 'Text or CSV file of indicators'),
              kind: d(
                z.enum(['auto', 'ip', 'cidr', 'domain', 'url', 'hash']).default('auto'),
                'Indicator kind; auto decides per line',
              ),
              severity: d(
                z.enum(['info', 'low', 'medium', 'high', 'critical']).default('high'),
                'Severity of a match (a CSV severity column overrides it)',
              ),
            })
            .strict(),
        )
        .default([]),
      'IOC lists (text, one per line, or CSV with an indicator column); reloaded when the file changes',
    ),
    assets: d(z.string().optional(), 'Asset inventory CSV: ip_or_cidr,name,owner,criticality,tags'),
    geoip: z
      .object({
        city_db: d(z.string().optional(), 'MaxMind GeoLite2/GeoIP2 City .mmdb'),
        asn_db: d(z.string().optional(), 'MaxMind GeoLite2 ASN .mmdb'),
      })
      .strict()
      .default({}),
  })
  .strict();

export type EnrichConfig = z.infer<typeof enrichSchema>;
