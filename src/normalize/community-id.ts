import { hash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Community ID v1 (https://github.com/corelight/community-id-spec): "1:" + base64(SHA-1(
 * seed:u16be · saddr · daddr · proto:u8 · 0:u8 · sport:u16be · dport:u16be )), endpoints ordered so
 * the smaller (address, port) comes first, which makes both directions of a flow hash the same.
 * Ports are only hashed for TCP, UDP, SCTP, ICMP and ICMPv6; for ICMP the type is the source port
 * and the counterpart type (echo request ↔ reply, …) the destination port; ICMP types without a
 * counterpart are one-way: (type, code) in the original order, never swapped.
 */
export const IP_PROTO = { icmp: 1, tcp: 6, udp: 17, icmp6: 58, sctp: 132 } as const;

/** Transport names as logs spell them → IANA protocol numbers. */
const PROTO_BY_NAME: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmp6: 58,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
};

export function protocolNumber(protocol: string | number): number | undefined {
  if (typeof protocol === 'number') return protocol;
  return PROTO_BY_NAME[protocol.toLowerCase()];
}

// Spec section "ICMP / ICMPv6": message types with a counterpart are treated like ports.
const ICMP4_COUNTERPART = new Map<number, number>([
  [8, 0], // echo → echo reply
  [0, 8],
  [13, 14], // timestamp ↔ timestamp reply
  [14, 13],
  [15, 16], // information request ↔ reply
  [16, 15],
  [10, 9], // router solicitation ↔ advertisement
  [9, 10],
  [17, 18], // address mask request ↔ reply
  [18, 17],
]);
const ICMP6_COUNTERPART = new Map<number, number>([
  [128, 129], // echo request ↔ reply
  [129, 128],
  [130, 131], // multicast listener query ↔ report
  [131, 130],
  [133, 134], // router solicitation ↔ advertisement
  [134, 133],
  [135, 136], // neighbor solicitation ↔ advertisement
  [136, 135],
  [139, 140], // who-are-you request ↔ reply
  [140, 139],
  [144, 145], // home agent address discovery request ↔ reply
  [145, 144],
]);

/**
 * Network-order bytes of an address. Dotted-quad IPv4 (validated by node:net) is split directly:
 * this runs for every flow and ipaddr.js's general parser (octal/hex forms) costs several times
 * more; IPv6 goes through ipaddr.js.
 */
function addressBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) {
    const out = new Uint8Array(4);
    let part = 0;
    let value = 0;
    for (let i = 0; i < ip.length; i++) {
      const c = ip.charCodeAt(i);
      if (c === 46) {
        out[part++] = value;
        value = 0;
      } else value = value * 10 + (c - 48);
    }
    out[part] = value;
    return out;
  }
  if (!ipaddr.IPv6.isValid(ip)) return undefined;
  return Uint8Array.from(ipaddr.IPv6.parse(ip).toByteArray());
}

const SCRATCH = Buffer.alloc(40);

/** -1, 0, 1 comparing two addresses byte by byte (same family). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

export interface FlowTuple {
  srcIp: string;
  dstIp: string;
  /** IANA number or a name (tcp, udp, icmp, ipv6-icmp, sctp). */
  protocol: number | string;
  /** For ICMP: the type. */
  srcPort?: number;
  /** For ICMP: the code. */
  dstPort?: number;
}

/** The Community ID of a flow, or undefined when the tuple is incomplete or the IPs are invalid. */
export function communityId(tuple: FlowTuple, seed = 0): string | undefined {
  const proto = protocolNumber(tuple.protocol);
  if (proto === undefined || proto < 0 || proto > 255) return undefined;
  let src = addressBytes(tuple.srcIp);
  let dst = addressBytes(tuple.dstIp);
  if (!src || !dst || src.length !== dst.length) return undefined;
  const hasPorts =
    proto === IP_PROTO.tcp ||
    proto === IP_PROTO.udp ||
    proto === IP_PROTO.sctp ||
    proto === IP_PROTO.icmp ||
    proto === IP_PROTO.icmp6;
  let sport = tuple.srcPort;
  let dport = tuple.dstPort;
  if (hasPorts && (sport === undefined || dport === undefined)) return undefined;
  let oneWay = false;
  if (proto === IP_PROTO.icmp || proto === IP_PROTO.icmp6) {
    const table = proto === IP_PROTO.icmp ? ICMP4_COUNTERPART : ICMP6_COUNTERPART;
    const counterpart = table.get(sport as number);
    if (counterpart === undefined) oneWay = true;
    else dport = counterpart;
  }
  if (!oneWay) {
    const order = compareBytes(src, dst);
    const swap = order > 0 || (order === 0 && hasPorts && (sport as number) > (dport as number));
    if (swap) {
      const a = src;
      src = dst;
      dst = a;
      const p = sport;
      sport = dport;
      dport = p;
    }
  }
  // One scratch buffer (single-threaded; hashed before the next call) instead of one per flow.
  const length = 2 + src.length * 2 + 2 + (hasPorts ? 4 : 0);
  const buf = SCRATCH;
  let at = buf.writeUInt16BE(seed & 0xffff, 0);
  buf.set(src, at);
  at += src.length;
  buf.set(dst, at);
  at += dst.length;
  at = buf.writeUInt8(proto, at);
  at = buf.writeUInt8(0, at);
  if (hasPorts) {
    at = buf.writeUInt16BE((sport as number) & 0xffff, at);
    buf.writeUInt16BE((dport as number) & 0xffff, at);
  }
  return `1:${hash('sha1', buf.subarray(0, length), 'base64')}`;
}
