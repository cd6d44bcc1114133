import { attackerIp } from '../entities.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';
import { probeConn, scanNotice } from './net.ts';

export const SWEEP_HOSTS = 80;
const SWEEP_PORTS = [445, 22, 3389, 23];

/**
 * Horizontal sweep: one source probes SWEEP_HOSTS hosts of a subnet on one port, 100 ms apart,
 * mostly unanswered (S0); Zeek's scan policy writes Scan::Address_Scan at the end.
 */
export const sweep: AttackFactory = ({ ctx, rng, index }) => {
  const src = attackerIp('sweep', index);
  const port = SWEEP_PORTS[index % SWEEP_PORTS.length];
  const subnet = `10.2.${10 + (index % 200)}`;
  const hosts = Array.from({ length: SWEEP_HOSTS }, (_, i) => `${subnet}.${i + 1}`);
  const times = spaced(SWEEP_HOSTS, 100, rng, 30);
  const steps = times.map((atMs, i) => ({
    atMs,
    make: (t: number) => probeConn(ctx, rng, t, src, hosts[i], port, rng.chance(0.8) ? 'S0' : 'REJ'),
  }));
  const end = times[times.length - 1] + 500;
  steps.push({
    atMs: end,
    make: (t: number) =>
      scanNotice(
        ctx,
        rng,
        t,
        'Scan::Address_Scan',
        `${src} scanned at least 25 unique hosts on port ${port}/tcp in 0m${Math.ceil(end / 1000)}s`,
        src,
        undefined,
        port,
      ),
  });
  return {
    scenario: 'sweep',
    attacker: { src_ip: src },
    targets: { hosts, users: [], ports: [port] },
    formats: [ctx.zeek === 'tsv' ? 'zeek-tsv' : 'zeek-json'],
    expectedRules: [...EXPECTED_RULES.sweep.zeek],
    steps,
  };
};
