import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import type { Fields } from '../../src/core/envelope.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { createNetworkEnricher } from '../../src/enrich/network.ts';

const HOME = ['10.0.0.0/8', '2001:db8:100::/48'];

function enrich(src: string | undefined, dst: string | undefined, home = HOME): Fields {
  const enriched: Fields = {};
  const normalized: Fields = {};
  if (src !== undefined) normalized.src_ip = src;
  if (dst !== undefined) normalized.dst_ip = dst;
  createNetworkEnricher(home).apply(normalized, enriched);
  return enriched;
}

describe('network enrichment', () => {
  it('gives the seed DNS example: private src, public dst, outbound with home 10.0.0.0/8', () => {
    const e = enrich('10.128.0.4', '216.239.34.174', ['10.0.0.0/8']);
    assert.equal(e.src_ip_is_private, true);
    assert.equal(e.dst_ip_is_private, false);
    assert.equal(e.direction, 'outbound');
    assert.equal(e.src_in_home, true);
    assert.equal(e.dst_in_home, false);
  });
  for (const [src, dst, direction] of [
    ['10.1.1.1', '10.2.2.2', 'internal'],
    ['8.8.8.8', '10.2.2.2', 'inbound'],
    ['10.2.2.2', '8.8.8.8', 'outbound'],
    ['8.8.8.8', '1.1.1.1', 'external'],
    ['2001:db8:100::5', '2001:db8:100:1::9', 'internal'],
    ['2606:4700::1111', '2001:db8:100::5', 'inbound'],
    ['2001:db8:100::5', '2606:4700::1111', 'outbound'],
    ['2606:4700::1111', '2001:4860::8888', 'external'],
    ['::ffff:10.9.9.9', '8.8.8.8', 'outbound'],
  ] as const) {
    it(`direction ${src} → ${dst} is ${direction}`, () => {
      assert.equal(enrich(src, dst).direction, direction);
    });
  }
  for (const [ip, cls] of [
    ['192.168.1.1', 'private'],
    ['172.16.5.4', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.10.10', 'link_local'],
    ['fe80::1', 'link_local'],
    ['224.0.0.251', 'multicast'],
    ['ff02::fb', 'multicast'],
    ['0.0.0.0', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
  ] as const) {
    it(`classifies ${ip} as ${cls}`, () => {
      const e = enrich(ip, undefined);
      assert.equal(e.src_ip_class, cls);
      assert.equal(e.src_ip_is_private, cls === 'private');
    });
  }
  it('sets no direction when one side is missing or not an IP', () => {
    assert.equal(enrich('10.0.0.1', undefined).direction, undefined);
    const e = enrich('10.0.0.1', 'not-an-ip');
    assert.equal(e.direction, undefined);
    assert.equal(e.dst_ip_class, undefined);
  });
  it('rejects a home network that is not a CIDR as a config error', () => {
    assert.throws(() => createNetworkEnricher(['10.0.0.0']), ConfigError);
  });
});

test('legacy inet_aton forms are not addresses: 192.030.0.6 (octal), 127.1, 0x7f.0.0.1 get no range class', () => {
  const net = createNetworkEnricher(['10.0.0.0/8']);
  assert.equal(net.info('192.030.0.6'), undefined);
  assert.equal(net.info('127.1'), undefined);
  assert.equal(net.info('0x7f.0.0.1'), undefined);
  assert.equal(net.info('192.30.0.6')?.ipClass, 'public');
  assert.equal(net.info('fe80::1%eth0')?.ipClass, 'link_local');
  assert.equal(net.info('::ffff:10.1.2.3')?.inHome, true);
});

test('an event whose src_ip is a legacy form gets no src class, not a made-up public one', () => {
  const net = createNetworkEnricher([]);
  const enriched: Record<string, unknown> = {};
  net.apply({ src_ip: '192.030.0.6', dst_ip: '10.0.0.1' }, enriched);
  assert.equal(enriched.src_ip_class, undefined);
  assert.equal(enriched.dst_ip_class, 'private');
  assert.equal(enriched.direction, undefined);
});
