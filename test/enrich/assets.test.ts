import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fields } from '../../src/core/envelope.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { createAssetTable } from '../../src/enrich/assets.ts';

const CSV = `ip_or_cidr,name,owner,criticality,tags
# the DMZ
10.47.0.0/16,dmz,netops,medium,dmz
10.47.8.0/24,"mail farm",messaging,High,mail;smtp
10.47.8.208,snozberry,"Wonka, W.",critical,dc|windows
2001:db8:100::/48,lab-v6,research,low,
`;

describe('asset inventory', () => {
  const table = createAssetTable(CSV);
  it('prefers an exact IP, then the longest prefix', () => {
    assert.deepEqual(table.lookup('10.47.8.208'), {
      name: 'snozberry',
      owner: 'Wonka, W.',
      criticality: 'critical',
      tags: ['dc', 'windows'],
    });
    assert.equal(table.lookup('10.47.8.1')?.name, 'mail farm');
    assert.deepEqual(table.lookup('10.47.8.1')?.tags, ['mail', 'smtp']);
    assert.equal(table.lookup('10.47.1.1')?.name, 'dmz');
    assert.equal(table.lookup('10.48.0.1'), undefined);
  });
  it('looks up IPv6 and IPv4-mapped addresses', () => {
    assert.equal(table.lookup('2001:db8:100::42')?.name, 'lab-v6');
    assert.equal(table.lookup('::ffff:10.47.8.208')?.name, 'snozberry');
  });
  it('fills src_asset and dst_asset', () => {
    const e: Fields = {};
    table.apply({ src_ip: '10.47.8.208', dst_ip: '8.8.8.8' }, e);
    assert.equal((e.src_asset as { name: string }).name, 'snozberry');
    assert.equal(e.dst_asset, undefined);
  });
  it('names the bad line of a broken table', () => {
    assert.throws(
      () => createAssetTable('ip,name\nnot-an-ip,x\n', 'assets.csv'),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /assets\.csv: line 2/);
        return true;
      },
    );
  });
});
