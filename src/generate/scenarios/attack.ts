import type { Prng } from '../prng.ts';
import type { GeneratedItem, GenFormat, WriteContext } from '../types.ts';

/** One step of an attack: at `atMs` after the attack starts, render this line. */
export interface AttackStep {
  atMs: number;
  make(timeMs: number): GeneratedItem;
}

/** What an attack instance claims about itself; the generator adds times and counts. */
export interface AttackPlan {
  scenario: string;
  attacker: { src_ip?: string; user?: string; host?: string };
  targets: { hosts: string[]; users: string[]; ports: number[] };
  formats: GenFormat[];
  /** Rule ids (rules/) that should alert on this instance. */
  expectedRules: string[];
  steps: AttackStep[];
}

export interface AttackEnv {
  ctx: WriteContext;
  rng: Prng;
  /** 0-based instance number of this scenario in the run (picks attacker, target, channel). */
  index: number;
}

export type AttackFactory = (env: AttackEnv) => AttackPlan;

/** Evenly spaced step times with a little jitter (never negative, never out of order). */
export function spaced(count: number, everyMs: number, rng: Prng, jitterMs = 0): number[] {
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    times.push(t);
    t += everyMs + (jitterMs ? rng.int(jitterMs) : 0);
  }
  return times;
}
