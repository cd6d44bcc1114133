/** One line of the benchmark table. Each bench/<area>.bench.ts exports `run(): Promise<BenchRow[]>`. */
export interface BenchRow {
  /** Group, e.g. "parse", "engine", "lake", "e2e". */
  bench: string;
  /** What was measured, e.g. "zeek-tsv dns lines/s". */
  metric: string;
  value: number;
  unit: string;
  /** Target for this metric, if the issue sets one, with how to compare. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}
