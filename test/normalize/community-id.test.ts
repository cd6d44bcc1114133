import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
