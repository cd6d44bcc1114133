import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { enrichSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { createEnricher } from '../../src/enrich/enricher.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-enrich-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger({ level: 'silent', destination: process.stderr });

function seedDnsEnvelope(): Envelope {
  return {
    id: 'x',
    source: 'zeek',
    log_type: 'dns',
    raw: {},
    normalized: {
      event_time: 1_769_868_799_213,
      src_ip: '10.128.0.4',
      dst_ip: '216.239.34.174',
      dns_query: 'ise.wrccdc.org',
    },
    enriched: {},
  };
}

describe('enricher', () => {
  it('fills the seed DNS example with network, time, IOC and asset fields', async () => {
    writeFileSync(join(dir, 'domains.txt'), 'wrccdc.org\n');
    writeFileSync(
      join(dir, 'assets.csv'),
      'ip_or_cidr,name,owner,criticality,tags\n10.128.0.0/16,scoring,blue,high,scoring\n',
    );
    const config = enrichSchema.parse({
      home_networks: ['10.0.0.0/8'],
      ioc: [{ name: 'ctf', path: join(dir, 'domains.txt'), severity: 'medium' }],
      assets: join(dir, 'assets.csv'),
    });
    const telemetry = createTelemetry({ defaultMetrics: false });
    const enricher = createEnricher(config, { logger, telemetry });
    await enricher.start();
    try {
      const env = seedDnsEnvelope();
      enricher.enrich(env);
      assert.deepEqual(env.enriched, {
        src_ip_is_private: true,
        src_ip_class: 'private',
        src_in_home: true,
        dst_ip_is_private: false,
        dst_ip_class: 'public',
        dst_in_home: false,
        direction: 'outbound',
        event_year: 2026,
        event_month: 1,
        event_day: 31,
        event_hour: 14,
        event_weekday: 6,
        ioc: [
          { list: 'ctf', indicator: 'wrccdc.org', kind: 'domain', field: 'dns_query', severity: 'medium' },
        ],
        src_asset: { name: 'scoring', owner: 'blue', criticality: 'high', tags: ['scoring'] },
      });
      const metric = await telemetry.registry.getSingleMetricAsString('socstream_ioc_matches_total');
      assert.match(metric, /socstream_ioc_matches_total\{list="ctf"\} 1/);
    } finally {
      await enricher.stop();
    }
  });
  it('runs only the enrichments a mapping asks for', async () => {
    const enricher = createEnricher(enrichSchema.parse({}), { logger });
    await enricher.start();
    const env = seedDnsEnvelope();
    enricher.enrich(env, new Set(['time']));
    assert.deepEqual(Object.keys(env.enriched).sort(), [
      'event_day',
      'event_hour',
      'event_month',
      'event_weekday',
      'event_year',
    ]);
    await enricher.stop();
  });
  it('follows the set of each event when consecutive events ask for different enrichments', async () => {
    const enricher = createEnricher(enrichSchema.parse({}), { logger });
    await enricher.start();
    const timeOnly = new Set(['time'] as const);
    const networkOnly = new Set(['network'] as const);
    const keysAfter = (which?: ReadonlySet<'time' | 'network'>) => {
      const env = seedDnsEnvelope();
      enricher.enrich(env, which);
      return Object.keys(env.enriched).length;
    };
    const counts = [timeOnly, timeOnly, networkOnly, undefined, timeOnly, new Set([])].map(keysAfter);
    assert.deepEqual(counts, [5, 5, 7, 12, 5, 0]);
    await enricher.stop();
  });
});
