import { UsageError } from '../core/errors.ts';
/**
 * A token bucket on the wall clock: tokens accrue at `ratePerSecond` up to `burst`, and each
 * event takes one. The burst bound (100 ms worth by default) keeps a stalled writer from
 * "catching up" in a flood afterwards, so the rate holds over any window longer than the burst.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, options: { burst?: number; now?: () => number } = {}) {
    if (!(ratePerSecond > 0)) throw new UsageError('rate must be positive');
    this.ratePerSecond = ratePerSecond;
    this.burst = options.burst ?? Math.max(1, ratePerSecond / 10);
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
    // Start with one token so the first event goes out at once.
    this.#tokens = 1;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.ratePerSecond) / 1000);
    this.#last = now;
  }

  /** Takes up to `max` whole tokens; returns how many were taken (0 when the bucket is dry). */
  take(max: number): number {
    this.#refill();
    const n = Math.min(max, Math.floor(this.#tokens));
    this.#tokens -= n;
    return n;
  }

  /** Milliseconds until the next whole token. */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) * 1000) / this.ratePerSecond;
  }
}
