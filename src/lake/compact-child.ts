import { readFileSync } from 'node:fs';
import { type CompactOptions, compactLake } from './compact.ts';

/**
 * The compaction child process (compact-process.ts starts it): runs compactLake with the options
 * given as JSON in argv[2], writes one JSON line per partition compacted (`{"partition": …}`) and
 * a last one with the totals and its peak resident memory (`{"stats": …, "maxRssBytes": n}`).
 * It stops between partitions on SIGTERM, and exits at once when its parent goes away (the IPC
 * channel closes): a killed store role does not leave a compaction running on its own.
 */
/**
 * This process's peak resident memory. Linux: VmHWM of /proc/self/status, the high-water mark of
 * this program's own memory; getrusage's maxrss is not that, it keeps the parent's RSS at the
 * fork (exec records the forked image's high-water mark), so a child of a 500 MB parent reports
 * 500 MB. Elsewhere: resourceUsage().maxRSS (kilobytes).
 */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

export async function main(argv: readonly string[]): Promise<void> {
  const options = JSON.parse(argv[2] ?? '{}') as Omit<CompactOptions, 'signal' | 'onPartition'>;
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  const orphaned = () => process.exit(1);
  process.on('disconnect', orphaned);
  const stats = await compactLake({
    ...options,
    signal: abort.signal,
    onPartition: (partition) => process.stdout.write(`${JSON.stringify({ partition })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ stats, maxRssBytes: peakRssBytes() })}\n`);
  process.off('disconnect', orphaned);
  process.disconnect?.();
}

if (import.meta.main) {
  main(process.argv).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
