/**
 * One line of the benchmark table; the contract lives with its runner (src/cli/bench.ts) so the
 * built CLI needs nothing from bench/ at compile time.
 */
export type { BenchRow } from '../src/cli/bench.ts';
