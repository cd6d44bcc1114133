import { ephemeralPort } from '../entities.ts';
import { type Prng, zeekUid } from '../prng.ts';
import type { GeneratedItem, WriteContext } from '../types.ts';
import { zeekLine } from '../zeek.ts';

/** A Zeek conn record of a probe that got no session: REJ (RST back) or S0 (no answer). */
export function probeConn(
  ctx: WriteContext,
  rng: Prng,
  timeMs: number,
  src: string,
  dst: string,
  port: number,
  state: 'REJ' | 'S0',
): GeneratedItem {
  return zeekLine(
    ctx,
    'conn',
    timeMs,
    [
      rng.int(1000),
      zeekUid(rng),
      src,
      ephemeralPort(rng),
      dst,
      port,
      'tcp',
      undefined,
      state === 'REJ' ? rng.range(20, 900) / 1_000_000 : undefined,
      state === 'REJ' ? 0 : undefined,
      state === 'REJ' ? 0 : undefined,
      state,
      true,
      true,
      0,
      state === 'REJ' ? 'Sr' : 'S',
      1,
      44,
      state === 'REJ' ? 1 : 0,
      state === 'REJ' ? 40 : 0,
      undefined,
    ],
    src,
  );
}

/** A completed TCP session (beacons), Zeek conn state SF. */
export function sessionConn(
  ctx: WriteContext,
  rng: Prng,
  timeMs: number,
  src: string,
  dst: string,
  port: number,
  service: string,
  bytes: [orig: number, resp: number],
): GeneratedItem {
  const origPkts = rng.range(5, 8);
  const respPkts = rng.range(4, 7);
  return zeekLine(
    ctx,
    'conn',
    timeMs,
    [
      rng.int(1000),
      zeekUid(rng),
      src,
      ephemeralPort(rng),
      dst,
      port,
      'tcp',
      service,
      rng.range(80, 400) / 1000,
      bytes[0],
      bytes[1],
      'SF',
      true,
      false,
      0,
      'ShADadFf',
      origPkts,
      origPkts * 52 + bytes[0],
      respPkts,
      respPkts * 52 + bytes[1],
      undefined,
    ],
    src,
  );
}

/** A Zeek notice (policy/misc/scan.zeek's Scan::Port_Scan / Scan::Address_Scan). */
export function scanNotice(
  ctx: WriteContext,
  rng: Prng,
  timeMs: number,
  note: 'Scan::Port_Scan' | 'Scan::Address_Scan',
  msg: string,
  src: string,
  dst: string | undefined,
  port: number | undefined,
): GeneratedItem {
  return zeekLine(
    ctx,
    'notice',
    timeMs,
    [
      rng.int(1000),
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      note,
      msg,
      undefined,
      src,
      dst,
      port,
      undefined,
      ['Notice::ACTION_LOG'],
      3600,
    ],
    src,
  );
}
