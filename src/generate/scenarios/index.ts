import type { AttackFactory } from './attack.ts';
import { beacon } from './beacon.ts';
import { bruteforce } from './bruteforce.ts';
import { portscan } from './portscan.ts';
import { spray } from './spray.ts';
import { success } from './success.ts';
import { sweep } from './sweep.ts';
import { threat } from './threat.ts';
import { webBruteforce } from './web-bruteforce.ts';

export const ATTACKS = {
  bruteforce,
  spray,
  success,
  portscan,
  sweep,
  beacon,
  threat,
  'web-bruteforce': webBruteforce,
} as const satisfies Record<string, AttackFactory>;
export type AttackName = keyof typeof ATTACKS;

export const SCENARIO_NAMES = ['normal', ...(Object.keys(ATTACKS) as AttackName[]), 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioPlan {
  /** Attacks started in turn (round robin); empty for `normal`. */
  attacks: readonly AttackName[];
  /** Event time between attack starts (each attack lasts less than this, beacon excepted). */
  attackEveryMs: number;
}

/**
 * Every scenario is the normal background plus attack instances. Single-attack scenarios start a
 * fresh instance (new attacker, target and channel) every `attackEveryMs`; `mixed` cycles through
 * all attacks. Beacons last ~10 min, so they overlap the next attacks, as they would.
 */
export const SCENARIOS: Record<ScenarioName, ScenarioPlan> = {
  normal: { attacks: [], attackEveryMs: 0 },
  bruteforce: { attacks: ['bruteforce'], attackEveryMs: 90_000 },
  spray: { attacks: ['spray'], attackEveryMs: 90_000 },
  success: { attacks: ['success'], attackEveryMs: 60_000 },
  portscan: { attacks: ['portscan'], attackEveryMs: 30_000 },
  sweep: { attacks: ['sweep'], attackEveryMs: 30_000 },
  beacon: { attacks: ['beacon'], attackEveryMs: 660_000 },
  threat: { attacks: ['threat'], attackEveryMs: 40_000 },
  'web-bruteforce': { attacks: ['web-bruteforce'], attackEveryMs: 60_000 },
  mixed: { attacks: Object.keys(ATTACKS) as AttackName[], attackEveryMs: 90_000 },
};

/** The first attack starts this long after --start, so every run opens with background. */
export const FIRST_ATTACK_DELAY_MS = 1_000;
