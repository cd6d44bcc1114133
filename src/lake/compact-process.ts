import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SinkUnavailableError } from '../core/errors.ts';
import type { CompactOptions, CompactStats, PartitionResult } from './compact.ts';

/**
 * Compaction in a child process of its own (compact-child.ts), so its memory is its own and
 * bounded: the child runs with `UV_THREADPOOL_SIZE=1` (DuckDB's calls run on libuv's threads, and
 * its allocator keeps freed memory per thread: measured on a 3.1 M-row hour, 436 MB peak RSS with
 * libuv's four threads vs 269 MB with one), `MALLOC_ARENA_MAX=2` and a small JS heap, and all of
 * it is returned to the system when the run ends — the process that writes the lake keeps none of
 * it. The child dies with its parent (IPC channel); on abort it stops after its partition, or is
 * killed after ABORT_GRACE_MS.
 */
export interface ChildCompactStats extends CompactStats {
  /** Peak resident memory of the child process. */
  maxRssBytes: number;
}

const CHILD = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './compact-child.ts' : './compact-child.js', import.meta.url),
);

/** How long a stopped run may finish its partition before it is killed. */
export const ABORT_GRACE_MS = 2000;

/** Environment of the child: one libuv thread, two malloc arenas. */
export const CHILD_ENV = { UV_THREADPOOL_SIZE: '1', MALLOC_ARENA_MAX: '2' } as const;

export function compactInChild(
  options: CompactOptions,
  /** Overrides of the child's environment (bench: the baseline without CHILD_ENV). */
  env: Record<string, string | undefined> = CHILD_ENV,
): Promise<ChildCompactStats> {
  const { signal, onPartition, ...plain } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=64', CHILD, JSON.stringify(plain)], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...env },
    });
    // Stop: SIGTERM ends the run after its partition; one that takes longer than
    // ABORT_GRACE_MS is killed (compaction is crash-safe: a killed run leaves temp files, never
    // a loss), so a shutdown stays within its bound.
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), ABORT_GRACE_MS);
      killTimer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let result: ChildCompactStats | null = null;
    let pending = '';
    let stderr = '';
    const { stdout, stderr: errors } = child as unknown as { stdout: Readable; stderr: Readable };
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const msg = JSON.parse(line) as {
          partition?: PartitionResult;
          stats?: CompactStats;
          maxRssBytes?: number;
        };
        if (msg.partition) onPartition?.(msg.partition);
        if (msg.stats) result = { ...msg.stats, maxRssBytes: msg.maxRssBytes ?? 0 };
      }
    });
    errors.setEncoding('utf8');
    errors.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (result && code === 0) return resolve(result);
      reject(
        new SinkUnavailableError(
          `compaction process ended (${sig ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`,
        ),
      );
    });
  });
}
