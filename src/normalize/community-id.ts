import { hash } from 'node:crypto';
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
  // Logs nearly always spell these three in lowercase: no lowercased copy for them.
  if (protocol === 'tcp') return 6;
  if (protocol === 'udp') return 17;
  if (protocol === 'icmp') return 1;
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
 * A dotted-quad IPv4 address as an unsigned 32-bit number, or -1 when it is not one. Exactly the
 * addresses node:net's isIPv4 accepts (four decimal octets 0-255, no leading zeros, nothing else):
 * this runs twice for every flow, and the regex plus a byte array per address cost more than the
 * SHA-1 that follows.
 */
function ipv4Number(ip: string): number {
  const n = ip.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (ip.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const start = i;
    let octet = 0;
    while (i < n && i - start < 3) {
      const d = ip.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      i++;
    }
    const len = i - start;
    if (len === 0 || octet > 255 || (len > 1 && ip.charCodeAt(start) === 48) /* leading 0 */) return -1;
    value = value * 256 + octet;
  }
  return i === n ? value : -1;
}

/** Network-order bytes of an IPv6 address (ipaddr.js), or undefined when it is not one. */
function ipv6Bytes(ip: string): number[] | undefined {
  if (!ipaddr.IPv6.isValid(ip)) return undefined;
  return ipaddr.IPv6.parse(ip).toByteArray();
}

// One scratch buffer (single-threaded; hashed before the next call) and a view per input length
// (IPv4/IPv6, with or without ports), so a flow allocates no buffer.
const SCRATCH = Buffer.alloc(40);
const VIEWS: Buffer[] = [];
for (const length of [12, 16, 36, 40]) VIEWS[length] = SCRATCH.subarray(0, length);

/** -1, 0, 1 comparing two addresses byte by byte (same family). */
function compareBytes(a: readonly number[], b: readonly number[]): number {
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
  return flowCommunityId(tuple.srcIp, tuple.dstIp, tuple.protocol, tuple.srcPort, tuple.dstPort, seed);
}

/** communityId with the tuple's parts as arguments (the normalizer's per-flow call: no tuple object). */
export function flowCommunityId(
  srcIp: string,
  dstIp: string,
  protocol: number | string,
  srcPort: number | undefined,
  dstPort: number | undefined,
  seed = 0,
): string | undefined {
  const proto = protocolNumber(protocol);
  if (proto === undefined || proto < 0 || proto > 255) return undefined;
  const hasPorts =
    proto === IP_PROTO.tcp ||
    proto === IP_PROTO.udp ||
    proto === IP_PROTO.sctp ||
    proto === IP_PROTO.icmp ||
    proto === IP_PROTO.icmp6;
  // Checked after the addresses before: an invalid address and missing ports both give undefined.
  const src4 = ipv4Number(srcIp);
  const dst4 = src4 < 0 ? -1 : ipv4Number(dstIp);
  let src6: number[] | undefined;
  let dst6: number[] | undefined;
  if (dst4 < 0) {
    // Not two IPv4 addresses: both must be IPv6 (mixed families have no Community ID).
    if (src4 >= 0 || ipv4Number(dstIp) >= 0) return undefined;
    src6 = ipv6Bytes(srcIp);
    dst6 = src6 && ipv6Bytes(dstIp);
    if (!src6 || !dst6) return undefined;
  }
  let sport = srcPort;
  let dport = dstPort;
  if (hasPorts && (sport === undefined || dport === undefined)) return undefined;
  let oneWay = false;
  if (proto === IP_PROTO.icmp || proto === IP_PROTO.icmp6) {
    const table = proto === IP_PROTO.icmp ? ICMP4_COUNTERPART : ICMP6_COUNTERPART;
    const counterpart = table.get(sport as number);
    if (counterpart === undefined) oneWay = true;
    else dport = counterpart;
  }
  let swap = false;
  if (!oneWay) {
    const order =
      src6 === undefined ? (src4 < dst4 ? -1 : src4 > dst4 ? 1 : 0) : compareBytes(src6, dst6 as number[]);
    swap = order > 0 || (order === 0 && hasPorts && (sport as number) > (dport as number));
    if (swap) {
      const p = sport;
      sport = dport;
      dport = p;
    }
  }
  const buf = SCRATCH;
  buf[0] = (seed >>> 8) & 0xff;
  buf[1] = seed & 0xff;
  let at = 2;
  if (src6 === undefined) {
    at = writeIpv4(buf, at, swap ? dst4 : src4);
    at = writeIpv4(buf, at, swap ? src4 : dst4);
  } else {
    const first = swap ? (dst6 as number[]) : src6;
    const second = swap ? src6 : (dst6 as number[]);
    for (let i = 0; i < 16; i++) buf[at + i] = first[i];
    for (let i = 0; i < 16; i++) buf[at + 16 + i] = second[i];
    at += 32;
  }
  buf[at++] = proto;
  buf[at++] = 0;
  if (hasPorts) {
    const sp = (sport as number) & 0xffff;
    const dp = (dport as number) & 0xffff;
    buf[at++] = sp >>> 8;
    buf[at++] = sp & 0xff;
    buf[at++] = dp >>> 8;
    buf[at++] = dp & 0xff;
  }
  return `1:${hash('sha1', VIEWS[at], 'base64')}`;
}

function writeIpv4(buf: Buffer, at: number, ip: number): number {
  buf[at] = ip >>> 24;
  buf[at + 1] = (ip >>> 16) & 0xff;
  buf[at + 2] = (ip >>> 8) & 0xff;
  buf[at + 3] = ip & 0xff;
  return at + 4;
}
