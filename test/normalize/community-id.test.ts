import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import { communityId } from '../../src/normalize/community-id.ts';

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}
const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/normalize/community-id-vectors.json', import.meta.url), 'utf8'),
) as { seed0: Vector[]; seed1: Vector[] };

function compute(v: Vector, seed: number): string | undefined {
  return communityId(
    {
      srcIp: v.saddr,
      dstIp: v.daddr,
      protocol: v.proto,
      srcPort: v.sport ?? undefined,
      dstPort: v.dport ?? undefined,
    },
    seed,
  );
}

describe('Community ID v1 against the spec baseline vectors', () => {
  for (const [name, seed] of [
    ['seed0', 0],
    ['seed1', 1],
  ] as const) {
    for (const v of vectors[name]) {
      it(`${name} proto ${v.proto} ${v.saddr}:${v.sport} → ${v.daddr}:${v.dport}`, () => {
        assert.equal(compute(v, seed), v.communityid);
      });
    }
  }
  it('covers TCP, UDP, ICMP, ICMPv6, SCTP and a portless protocol on IPv4 and IPv6', () => {
    const protos = new Set(vectors.seed0.map((v) => v.proto));
    assert.deepEqual(
      [...protos].sort((a, b) => a - b),
      [1, 6, 17, 46, 58, 132],
    );
  });
  it('accepts protocol names as logs spell them', () => {
    assert.equal(
      communityId({ srcIp: '192.168.1.52', dstIp: '8.8.8.8', protocol: 'UDP', srcPort: 54585, dstPort: 53 }),
      '1:d/FP5EW3wiY1vCndhwleRRKHowQ=',
    );
  });
  it('gives undefined for a bad address, mixed families or missing ports', () => {
    assert.equal(
      communityId({ srcIp: 'nope', dstIp: '8.8.8.8', protocol: 6, srcPort: 1, dstPort: 2 }),
      undefined,
    );
    assert.equal(
      communityId({ srcIp: '::1', dstIp: '8.8.8.8', protocol: 6, srcPort: 1, dstPort: 2 }),
      undefined,
    );
    assert.equal(communityId({ srcIp: '1.1.1.1', dstIp: '8.8.8.8', protocol: 'tcp' }), undefined);
  });
});

describe('Community ID address parsing', () => {
  it('takes exactly the IPv4 spellings node:net isIPv4 accepts (no leading zeros, octets 0-255)', () => {
    const spellings = [
      '0.0.0.0',
      '255.255.255.255',
      '10.1.6.57',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.256',
      '1.2.3',
      '1.2.3.4.5',
      '1..3.4',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.4\n',
      '1.2.3.-4',
      '1.2.3.1000',
      '1234.2.3.4',
      '1.2.3.a',
      '',
    ];
    for (const ip of spellings) {
      const id = communityId({ srcIp: ip, dstIp: '8.8.8.8', protocol: 'tcp', srcPort: 1, dstPort: 2 });
      assert.equal(id !== undefined, isIPv4(ip), `"${ip}"`);
    }
  });
  it('orders IPv4 endpoints as unsigned numbers (200.1.1.1 sorts after 10.0.0.1)', () => {
    // seed 0 · 10.0.0.1 · 200.1.1.1 · udp · 0 · 5353 · 53: the smaller address first.
    const bytes = Buffer.from([0, 0, 10, 0, 0, 1, 200, 1, 1, 1, 17, 0, 0x14, 0xe9, 0, 53]);
    const expected = `1:${createHash('sha1').update(bytes).digest('base64')}`;
    assert.equal(
      communityId({ srcIp: '200.1.1.1', dstIp: '10.0.0.1', protocol: 'udp', srcPort: 53, dstPort: 5353 }),
      expected,
    );
  });
});
