/**
 * `socstream parse` prints complete three-layer envelopes: a child process with a config that sets
 * home networks, an IOC list, an asset table and an extra mapping, on real WRCCDC Zeek DNS lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const DNS = new URL('../../../shared/data/zeek-json/wrccdc2018-zeek6.2/dns.json', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'socstream-parse-envelopes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('parse with a config prints raw, normalized and enriched layers (IOC, assets, direction, custom mapping)', () => {
  const input = join(dir, 'dns.json');
  writeFileSync(input, readFileSync(DNS, 'utf8').split('\n').slice(0, 5).join('\n'));
  writeFileSync(join(dir, 'ioc.txt'), 'wrccdc.org\n');
  writeFileSync(
    join(dir, 'assets.csv'),
    'ip_or_cidr,name,owner,criticality,tags\n10.0.0.100,dns-1,infra,high,dns\n',
  );
  mkdirSync(join(dir, 'mappings', 'zeek'), { recursive: true });
  writeFileSync(join(dir, 'mappings', 'zeek', 'dns.yaml'), 'fields:\n  message: qclass_name\n');
  const config = join(dir, 'socstream.yaml');
  writeFileSync(
    config,
    [
      `mappings: [${join(dir, 'mappings')}]`,
      'enrich:',
      '  home_networks: [10.47.0.0/16]',
      `  ioc: [{ name: ctf, path: ${join(dir, 'ioc.txt')}, severity: medium }]`,
      `  assets: ${join(dir, 'assets.csv')}`,
      '',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, [MAIN, 'parse', '--config', config, input], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const envelopes = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.equal(envelopes.length, 5);
  const first = envelopes[0];
  assert.equal(first.raw.query, 'ise.wrccdc.org');
  assert.deepEqual(
    {
      event_time: first.normalized.event_time,
      event_class: first.normalized.event_class,
      src_ip: first.normalized.src_ip,
      dst_ip: first.normalized.dst_ip,
      dns_query: first.normalized.dns_query,
      message: first.normalized.message,
    },
    {
      event_time: 1_521_911_720_865,
      event_class: 'dns',
      src_ip: '10.47.1.100',
      dst_ip: '10.0.0.100',
      dns_query: 'ise.wrccdc.org',
      message: 'C_INTERNET',
    },
  );
  assert.match(first.normalized.community_id, /^1:/);
  assert.equal(first.enriched.direction, 'outbound');
  assert.equal(first.enriched.src_in_home, true);
  assert.equal(first.enriched.dst_in_home, false);
  assert.equal(first.enriched.event_year, 2018);
  assert.deepEqual(first.enriched.ioc, [
    { list: 'ctf', indicator: 'wrccdc.org', kind: 'domain', field: 'dns_query', severity: 'medium' },
  ]);
  assert.equal(first.enriched.dst_asset.name, 'dns-1');
});

test('parse exits 2 naming the file and key when a configured mapping uses an unknown field', () => {
  mkdirSync(join(dir, 'bad', 'zeek'), { recursive: true });
  writeFileSync(join(dir, 'bad', 'zeek', 'dns.yaml'), 'fields:\n  src_address: id.orig_h\n');
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, `mappings: [${join(dir, 'bad')}]\n`);
  const r = spawnSync(process.execPath, [MAIN, 'parse', '--config', config, DNS], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /dns\.yaml: fields\.src_address: unknown canonical field/);
  assert.equal(r.stdout, '');
});
