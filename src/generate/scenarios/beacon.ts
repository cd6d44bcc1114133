import { attackerIp, c2Ip } from '../entities.ts';
import { hex, zeekUid } from '../prng.ts';
import { zeekLine } from '../zeek.ts';
import type { AttackStep } from './attack.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';
import { sessionConn } from './net.ts';

export const BEACONS = 20;
export const BEACON_INTERVAL_MS = 30_000;

/**
 * Command-and-control beaconing: an infected internal host calls the same external server on
 * 443 every 30 s (±1 s jitter) with near-constant sizes; each call is a Zeek conn + ssl pair
 * with an odd-looking SNI.
 */
export const beacon: AttackFactory = ({ ctx, rng, index }) => {
  const src = attackerIp('beacon', index);
  const c2 = c2Ip(index);
  const sni = `${hex(rng, 12)}.cdn-update.net`;
  const times = spaced(BEACONS, BEACON_INTERVAL_MS - 1000, rng, 2000);
  const steps: AttackStep[] = [];
  for (const atMs of times) {
    steps.push({
      atMs,
      make: (t) => sessionConn(ctx, rng, t, src, c2, 443, 'ssl', [517, 1460 + rng.int(40)]),
    });
    steps.push({
      atMs: atMs + 1,
      make: (t) =>
        zeekLine(
          ctx,
          'ssl',
          t,
          [
            rng.int(1000),
            zeekUid(rng),
            src,
            rng.range(32768, 60999),
            c2,
            443,
            'TLSv12',
            'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
            'x25519',
            sni,
            false,
            undefined,
            undefined,
            true,
            'CsxknGIi',
            [],
            [],
            undefined,
            'self signed certificate',
          ],
          src,
        ),
    });
  }
  return {
    scenario: 'beacon',
    attacker: { src_ip: src },
    targets: { hosts: [c2], users: [], ports: [443] },
    formats: [ctx.zeek === 'tsv' ? 'zeek-tsv' : 'zeek-json'],
    expectedRules: [...EXPECTED_RULES.beacon.zeek],
    steps,
  };
};
