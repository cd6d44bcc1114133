import { attackerIp, SERVERS } from '../entities.ts';
import { eveAlert } from '../suricata.ts';
import { type AttackFactory, spaced } from './attack.ts';
import { EXPECTED_RULES } from './expected-rules.ts';
import { probeConn, scanNotice } from './net.ts';

export const PORTSCAN_PORTS = 150;

/**
 * Vertical port scan (nmap -sS style) from a compromised internal host: one source, one target,
 * PORTSCAN_PORTS distinct ports 50 ms apart, answered by RST (REJ) or not at all (S0). Suricata
 * raises ET SCAN on the first probes; Zeek's scan policy writes Scan::Port_Scan at the end.
 */
export const portscan: AttackFactory = ({ ctx, rng, index }) => {
  const src = attackerIp('portscan', index);
  const target = rng.pick(SERVERS).ip;
  const ports = Array.from({ length: 1024 }, (_, i) => i + 1);
  for (let i = 0; i < PORTSCAN_PORTS; i++) {
    const j = i + rng.int(ports.length - i);
    [ports[i], ports[j]] = [ports[j], ports[i]];
  }
  const scanned = ports.slice(0, PORTSCAN_PORTS);
  const times = spaced(PORTSCAN_PORTS, 50, rng, 20);
  const steps = times.map((atMs, i) => ({
    atMs,
    make: (t: number) => probeConn(ctx, rng, t, src, target, scanned[i], rng.chance(0.7) ? 'REJ' : 'S0'),
  }));
  steps.splice(3, 0, {
    atMs: times[3],
    make: (t: number) =>
      eveAlert(
        ctx,
        t,
        { srcIp: src, srcPort: 54000 + rng.int(1000), destIp: target, destPort: scanned[3], proto: 'TCP' },
        {
          signatureId: 2009582,
          signature: 'ET SCAN NMAP -sS window 1024',
          category: 'Attempted Information Leak',
          severity: 2,
        },
      ),
  });
  const end = times[times.length - 1] + 500;
  steps.push({
    atMs: end,
    make: (t: number) =>
      scanNotice(
        ctx,
        rng,
        t,
        'Scan::Port_Scan',
        `${src} scanned at least 15 unique ports of host ${target} in 0m${Math.ceil(end / 1000)}s`,
        src,
        target,
        undefined,
      ),
  });
  return {
    scenario: 'portscan',
    attacker: { src_ip: src },
    targets: { hosts: [target], users: [], ports: scanned },
    formats: ctx.zeek === 'tsv' ? ['zeek-tsv', 'suricata-eve'] : ['zeek-json', 'suricata-eve'],
    expectedRules: [...EXPECTED_RULES.portscan.zeek],
    steps,
  };
};
