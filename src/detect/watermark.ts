/**
 * The event clock of a detector that reads several input partitions (Kafka topic-partitions, or
 * the origins carried by re-keyed matches): the largest event time seen per partition, and the
 * clock is the SMALLEST of them over the partitions that have data and are not idle — the way
 * Flink combines input watermarks and Kafka Streams picks stream time across a task's partitions.
 * One partition replaying months-old logs then holds the clock back instead of making every other
 * partition "late"; one partition racing ahead does not push the others behind the watermark.
 *
 * - A partition counts once it is assigned (`assign`) or has delivered data; one that never
 *   delivers holds the clock only until it is idle.
 * - Idle: a partition that delivered nothing for `idleMs` of wall time leaves the minimum, so a
 *   quiet partition does not stall every window; when it delivers again it rejoins, and what it
 *   delivers behind the clock is late (Flink's idleness has the same consequence).
 * - The combined clock never goes back: a partition that (re)joins behind it holds it still until
 *   it catches up, it does not re-open decided windows.
 *
 * With a single partition the clock is exactly "max event time seen" (the in-process detector).
 */
export interface PartitionClocks {
  /**
   * A batch arrives (wall time `wallNow`): partitions silent for longer than the idle timeout leave
   * the minimum. Called once per batch, not per event.
   */
  expireIdle(wallNow: number): void;
  /**
   * The partitions this reader owns (a consumer's assignment). An assigned partition counts from the
   * start, before it delivers anything: the clock waits for it (Flink holds a source's watermark at
   * −∞ until each split reports), until it goes idle. Partitions not listed are forgotten.
   */
  assign(partitions: readonly string[], wallNow: number): void;
  /** An event (or a match's clock reading) from `partition`; returns the combined clock. */
  observe(partition: string, eventTime: number, wallNow: number): number;
  /** The combined clock: min over active partitions, never decreasing; −∞ before any data. */
  clock(): number;
  /** Moves the combined clock forward to at least `t` (idle advance by wall time, end of input). */
  raise(t: number): void;
  /** The largest event time seen on `partition` (−∞ when it delivered nothing). */
  of(partition: string): number;
  /**
   * The slowest partition that may still deliver: min of the largest event times over the partitions
   * that delivered data and were silent for less than `holdMs` of wall time, idle ones included
   * (+∞ when none). Correlation state older than this may still be needed by a partition that
   * comes back from idleness behind the clock (docs/detection.md "Lateness").
   */
  floor(wallNow: number, holdMs: number): number;
  /** Per partition: largest event time seen and whether it currently counts (diagnostics, tests). */
  partitions(): Array<{ partition: string; max: number; active: boolean }>;
}

interface Part {
  max: number;
  lastWall: number;
  active: boolean;
}

export function createPartitionClocks(idleMs: number): PartitionClocks {
  const parts = new Map<string, Part>();
  let combined = Number.NEGATIVE_INFINITY;
  // The active partition holding the minimum: only its progress can move the clock, so the O(P)
  // recomputation runs when it advances, not on every event.
  let holder: Part | null = null;

  function recompute(): void {
    let min = Number.POSITIVE_INFINITY;
    let h: Part | null = null;
    for (const p of parts.values()) {
      if (p.active && p.max < min) {
        min = p.max;
        h = p;
      }
    }
    holder = h;
    if (h && min > combined) combined = min;
  }

  return {
    expireIdle(wallNow) {
      let changed = false;
      for (const p of parts.values()) {
        if (p.active && wallNow - p.lastWall > idleMs) {
          p.active = false;
          changed = true;
        }
      }
      if (changed) recompute();
    },
    assign(partitions, wallNow) {
      const keep = new Set(partitions);
      for (const name of parts.keys()) if (!keep.has(name)) parts.delete(name);
      for (const name of partitions) {
        if (!parts.has(name)) {
          parts.set(name, { max: Number.NEGATIVE_INFINITY, lastWall: wallNow, active: true });
        }
      }
      recompute();
    },
    observe(partition, eventTime, wallNow) {
      let p = parts.get(partition);
      if (!p) {
        p = { max: eventTime, lastWall: wallNow, active: true };
        parts.set(partition, p);
        recompute();
        return combined;
      }
      p.lastWall = wallNow;
      if (eventTime > p.max) p.max = eventTime;
      else if (p.active) return combined;
      if (!p.active) {
        p.active = true;
        recompute();
      } else if (p === holder) recompute();
      return combined;
    },
    clock() {
      return combined;
    },
    of(partition) {
      return parts.get(partition)?.max ?? Number.NEGATIVE_INFINITY;
    },
    floor(wallNow, holdMs) {
      let min = Number.POSITIVE_INFINITY;
      for (const p of parts.values()) {
        if (p.max !== Number.NEGATIVE_INFINITY && wallNow - p.lastWall < holdMs && p.max < min) min = p.max;
      }
      return min;
    },
    raise(t) {
      if (t > combined) combined = t;
    },
    partitions() {
      return [...parts].map(([partition, p]) => ({ partition, max: p.max, active: p.active }));
    },
  };
}
