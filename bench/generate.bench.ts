/**
 * The traffic generator's own speed (lines/s, MB/s, one core, in memory): how fast it can feed the
 * end-to-end benchmark and the demo. Run alone: `node bench/generate.bench.ts`.
 */
import { createGenerator } from '../src/generate/generator.ts';
import type { BenchRow } from './types.ts';

const LINES = process.env.SOCSTREAM_BENCH_QUICK === '1' ? 100_000 : 400_000;

function measure(scenario: 'mixed' | 'normal', zeek: 'json' | 'tsv'): { perSec: number; mbPerSec: number } {
  const g = createGenerator({ scenario, zeek, seed: 1, startMs: Date.parse('2026-01-31T10:00:00Z') });
  for (let i = 0; i < 20_000; i++) g.nextItem(); // warm up
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < LINES; i++) bytes += g.nextItem().line.length;
  const s = (performance.now() - t0) / 1000;
  return { perSec: LINES / s, mbPerSec: bytes / s / 1e6 };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const zeek of ['json', 'tsv'] as const) {
    const r = measure('mixed', zeek);
    rows.push({
      bench: 'generate',
      metric: `mixed (Zeek ${zeek}) lines/s`,
      value: r.perSec,
      unit: 'lines/s',
      note: `${r.mbPerSec.toFixed(1)} MB/s, ${LINES.toLocaleString('en-US')} lines, one core`,
    });
  }
  return rows;
}

if (import.meta.main) console.table(await run());
