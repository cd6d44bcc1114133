import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { COMPACT_DEFAULTS } from '../lake/compact.ts';
import { compactInChild } from '../lake/compact-process.ts';
import { applyRetention } from '../lake/retention.ts';
import { checkLakeDir } from './inputs.ts';
import { action } from './run-action.ts';

/**
 * `socstream lake compact --lake DIR` compacts the lake as the background compactor does (closed
 * hours into a few deduplicated files with their rollups, crowded open hours merged; safe while
 * the writer writes); `socstream lake retention --days N --lake DIR` drops hour partitions older
 * than N days. Both print one JSON line of what they did.
 */
function nonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const lake = program.command('lake').description('Maintain the Parquet lake (compaction, retention)');
  lake
    .command('compact')
    .description('Merge each hour partition into a few files without duplicate event ids (atomic swap)')
    .requiredOption('--lake <dir>', 'Lake root directory')
    .option('--include-open-hours', 'also deduplicate hours that are not closed yet (the current hour)')
    .option(
      '--close-after-minutes <n>',
      'an hour is closed this long after it ended',
      String(COMPACT_DEFAULTS.closeAfterMs / 60_000),
    )
    .option(
      '--open-hour-max-files <n>',
      'merge an open hour once it has this many files (0: never)',
      String(COMPACT_DEFAULTS.openHourMaxFiles),
    )
    .option(
      '--memory-mb <n>',
      "DuckDB's memory limit for compaction (it spills to disk beyond)",
      String(COMPACT_DEFAULTS.memoryLimitMb),
    )
    .action(
      action(
        async (flags: {
          lake: string;
          includeOpenHours?: boolean;
          closeAfterMinutes: string;
          openHourMaxFiles: string;
          memoryMb: string;
        }) => {
          checkLakeDir(flags.lake);
          const memoryLimitMb = nonNegative(flags.memoryMb, '--memory-mb');
          if (memoryLimitMb < 16) throw new UsageError('--memory-mb must be at least 16');
          // The same child process as the background compactor (its memory is its own).
          const stats = await compactInChild({
            lakeDir: flags.lake,
            includeOpenHours: flags.includeOpenHours === true,
            closeAfterMs: nonNegative(flags.closeAfterMinutes, '--close-after-minutes') * 60_000,
            openHourMaxFiles: Math.trunc(nonNegative(flags.openHourMaxFiles, '--open-hour-max-files')),
            memoryLimitMb,
          });
          process.stdout.write(`${JSON.stringify(stats)}\n`);
          return 0;
        },
      ),
    );
  lake
    .command('retention')
    .description('Drop hour partitions that ended more than N days ago (event time, UTC)')
    .requiredOption('--days <n>', 'Days to keep')
    .requiredOption('--lake <dir>', 'Lake root directory')
    .action(
      action(async (flags: { lake: string; days: string }) => {
        checkLakeDir(flags.lake);
        const days = Number(flags.days);
        if (!Number.isFinite(days) || days < 0) throw new UsageError('--days must be a number >= 0');
        const stats = await applyRetention({ lakeDir: flags.lake, days });
        process.stdout.write(`${JSON.stringify(stats)}\n`);
        return 0;
      }),
    );
}
