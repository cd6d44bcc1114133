/**
 * A seeded PRNG (mulberry32): small, fast and good enough for synthetic traffic. The same seed
 * gives the same sequence on every platform, which is what makes `--seed` byte-reproducible.
 */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max] (both inclusive). */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** A derived generator, so one part of a scenario can't shift another part's sequence. */
  fork(salt: number): Prng {
    return new Prng((Math.imul(this.int(0x7fffffff) ^ salt, 0x9e3779b1) ^ salt) >>> 0);
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Zeek connection uids look like `CqKst53mF3det3eDV9`: "C" + base62 characters. */
export function zeekUid(rng: Prng, prefix = 'C'): string {
  let s = prefix;
  for (let i = 0; i < 17; i++) s += ID_ALPHABET[rng.int(62)];
  return s;
}

/** Suricata flow ids are unsigned 52-bit-ish integers printed as JSON numbers. */
export function flowId(rng: Prng): number {
  return rng.int(2 ** 21) * 2 ** 30 + rng.int(2 ** 30);
}

export function hex(rng: Prng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += '0123456789abcdef'[rng.int(16)];
  return s;
}
