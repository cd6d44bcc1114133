import { UsageError } from '../core/errors.ts';
import { Prng } from './prng.ts';
import type { AttackPlan } from './scenarios/attack.ts';
import { ATTACKS, FIRST_ATTACK_DELAY_MS, SCENARIOS, type ScenarioName } from './scenarios/index.ts';
import { createBackground } from './scenarios/normal.ts';
import { isoTime } from './time-format.ts';
import type { GeneratedItem, GenFormat, WriteContext } from './types.ts';

export interface GeneratorOptions {
  scenario: ScenarioName;
  /** Same seed + same options → byte-identical lines. */
  seed?: number;
  /** Event time of the first line, epoch ms (default: now). */
  startMs?: number;
  /**
   * Events per second of EVENT time: line i has time startMs + floor(i * 1000 / eventsPerSecond).
   * With --rate this is the rate, so event time follows the wall clock; with --count it is
   * --time-rate (default 100), i.e. how much traffic time the run covers.
   */
  eventsPerSecond?: number;
  zeek?: 'json' | 'tsv';
  /** Overrides the scenario's event time between attack starts. */
  attackEveryMs?: number;
}

/** One attack instance as written to the ground-truth file (NDJSON, one object per line). */
export interface TruthRecord {
  id: string;
  scenario: string;
  attacker: { src_ip?: string; user?: string; host?: string };
  targets: { hosts: string[]; users: string[]; ports: number[] };
  formats: GenFormat[];
  expected_rules: string[];
  /** Event time of the first and last line emitted for this instance (epoch ms and ISO). */
  start_ms: number;
  end_ms: number;
  start: string;
  end: string;
  /** Lines emitted and lines planned; complete when equal (a --count run can cut one short). */
  events: number;
  planned: number;
  complete: boolean;
}

interface Active {
  plan: AttackPlan;
  startMs: number;
  next: number;
  truth: TruthRecord;
}

export const DEFAULT_EVENTS_PER_SECOND = 100;

/**
 * The generator as a library: an endless, deterministic iterator of log lines (callers stop it
 * by count or time), with the ground truth of every attack it has started.
 *
 * Scheduling: line i occupies time slot T_i. An attack step due at or before T_i takes the slot
 * (it is written with time T_i, so output is in time order); otherwise the background fills it.
 * Ground truth records the times actually written.
 */
export class Generator implements Iterator<GeneratedItem>, Iterable<GeneratedItem> {
  readonly startMs: number;
  readonly eventsPerSecond: number;
  #index = 0;
  readonly #background: (t: number) => GeneratedItem;
  readonly #ctx: WriteContext;
  readonly #attackRng: Prng;
  readonly #attacks: readonly (keyof typeof ATTACKS)[];
  readonly #attackEveryMs: number;
  #nextAttackMs: number;
  #attackCount = 0;
  readonly #perKind = new Map<string, number>();
  readonly #active: Active[] = [];
  readonly #truth: TruthRecord[] = [];

  constructor(options: GeneratorOptions) {
    const plan = SCENARIOS[options.scenario];
    if (!plan) throw new UsageError(`unknown scenario "${options.scenario}"`);
    const root = new Prng(options.seed ?? 1);
    this.startMs = options.startMs ?? Date.now();
    this.eventsPerSecond = options.eventsPerSecond ?? DEFAULT_EVENTS_PER_SECOND;
    if (!(this.eventsPerSecond > 0)) throw new UsageError('eventsPerSecond must be positive');
    this.#ctx = { rng: root.fork(1), zeek: options.zeek ?? 'json' };
    this.#background = createBackground(this.#ctx, root.fork(2));
    this.#attackRng = root.fork(3);
    this.#attacks = plan.attacks;
    this.#attackEveryMs = options.attackEveryMs ?? plan.attackEveryMs;
    this.#nextAttackMs = this.#attacks.length
      ? this.startMs + FIRST_ATTACK_DELAY_MS
      : Number.POSITIVE_INFINITY;
  }

  /** Lines produced so far. */
  get emitted(): number {
    return this.#index;
  }

  /** Event time of the next line. */
  nextTimeMs(): number {
    return this.startMs + Math.floor((this.#index * 1000) / this.eventsPerSecond);
  }

  next(): IteratorResult<GeneratedItem> {
    return { done: false, value: this.nextItem() };
  }

  [Symbol.iterator](): Generator {
    return this;
  }

  nextItem(): GeneratedItem {
    const t = this.nextTimeMs();
    this.#index++;
    while (this.#nextAttackMs <= t) this.#startAttack();
    const due = this.#dueAttack(t);
    if (!due) return this.#background(t);
    const step = due.plan.steps[due.next++];
    const item = step.make(t);
    const truth = due.truth;
    if (truth.events === 0) {
      truth.start_ms = t;
      truth.start = isoTime(t);
    }
    truth.events++;
    truth.end_ms = t;
    truth.end = isoTime(t);
    if (due.next === due.plan.steps.length) {
      truth.complete = true;
      this.#active.splice(this.#active.indexOf(due), 1);
    }
    return item;
  }

  /** Every attack started so far (complete or not), in start order. */
  truth(): TruthRecord[] {
    return this.#truth.filter((r) => r.events > 0);
  }

  #startAttack(): void {
    const kind = this.#attacks[this.#attackCount % this.#attacks.length];
    const index = this.#perKind.get(kind) ?? 0;
    this.#perKind.set(kind, index + 1);
    const plan = ATTACKS[kind]({ ctx: this.#ctx, rng: this.#attackRng.fork(this.#attackCount), index });
    const truth: TruthRecord = {
      id: `${kind}-${String(index + 1).padStart(4, '0')}`,
      scenario: kind,
      attacker: plan.attacker,
      targets: plan.targets,
      formats: plan.formats,
      expected_rules: plan.expectedRules,
      start_ms: 0,
      end_ms: 0,
      start: '',
      end: '',
      events: 0,
      planned: plan.steps.length,
      complete: false,
    };
    this.#truth.push(truth);
    this.#active.push({ plan, startMs: this.#nextAttackMs, next: 0, truth });
    this.#attackCount++;
    this.#nextAttackMs += this.#attackEveryMs;
  }

  #dueAttack(t: number): Active | undefined {
    let best: Active | undefined;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const a of this.#active) {
      const at = a.startMs + a.plan.steps[a.next].atMs;
      if (at <= t && at < bestAt) {
        best = a;
        bestAt = at;
      }
    }
    return best;
  }
}

export function createGenerator(options: GeneratorOptions): Generator {
  return new Generator(options);
}
