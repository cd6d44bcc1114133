const MAX_BACKOFF_MS = 5_000;

/** Exponential backoff with full jitter, capped: 100 ms, 200 ms, 400 ms ... 5 s. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
