import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Fields } from '../../src/core/envelope.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { createGeoEnricher } from '../../src/enrich/geo.ts';
import { writeMmdb } from '../helpers/mmdb-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-geo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cityDb = join(dir, 'city.mmdb');
const asnDb = join(dir, 'asn.mmdb');
writeFileSync(
  cityDb,
  writeMmdb({
    databaseType: 'GeoLite2-City',
    records: [
      {
        network: '216.239.32.0/19',
        data: {
          country: { iso_code: 'US', names: { en: 'United States' } },
          city: { names: { en: 'Mountain View' } },
          location: { latitude: 37.4056, longitude: -122.0775 },
        },
      },
      { network: '2a00:1450::/32', data: { country: { iso_code: 'IE' }, city: { names: { en: 'Dublin' } } } },
    ],
  }),
);
writeFileSync(
  asnDb,
  writeMmdb({
    databaseType: 'GeoLite2-ASN',
    records: [
      {
        network: '216.239.32.0/19',
        data: { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' },
      },
    ],
  }),
);

describe('GeoIP/ASN enrichment from a MaxMind database the test builds', () => {
  it('fills country, city, location and ASN for public addresses', async () => {
    const geo = await createGeoEnricher({ cityDb, asnDb });
    const e: Fields = {};
    geo!.apply({ src_ip: '10.128.0.4', dst_ip: '216.239.34.174' }, e, (ip) => !ip.startsWith('10.'));
    assert.deepEqual(e, {
      dst_geo_country: 'US',
      dst_geo_city: 'Mountain View',
      dst_geo_lat: 37.4056,
      dst_geo_lon: -122.0775,
      dst_asn: 15169,
      dst_as_org: 'GOOGLE',
    });
  });
  it('looks up IPv6', async () => {
    const geo = await createGeoEnricher({ cityDb });
    const e: Fields = {};
    geo!.apply({ src_ip: '2a00:1450:4001::200e' }, e, () => true);
    assert.equal(e.src_geo_country, 'IE');
    assert.equal(e.src_geo_city, 'Dublin');
  });
  it('is off without databases and a config error for a bad file', async () => {
    assert.equal(await createGeoEnricher({}), undefined);
    const bad = join(dir, 'bad.mmdb');
    writeFileSync(bad, 'not a database');
    await assert.rejects(createGeoEnricher({ cityDb: bad }), ConfigError);
  });
});
