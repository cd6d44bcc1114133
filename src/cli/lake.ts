import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { compactLake } from '../lake/compact.ts';
import { applyRetention } from '../lake/retention.ts';
import { action } from './run-action.ts';

/**
 * `socstream lake compact --lake DIR` merges each hour partition's files into one and drops
 * duplicate ids (safe while the store role writes); `socstream lake retention --days N --lake DIR`
 * drops hour partitions older than N days. Both print one JSON line of what they did.
 */
export function register(program: Command): void {
  const lake = program.command('lake').description('Maintain the Parquet lake (compaction, retention)');
  lake
    .command('compact')
    .description('Merge small files per hour partition and drop duplicate event ids (atomic swap)')
    .requiredOption('--lake <dir>', 'Lake root directory')
    .option(
      '--min-files <n>',
      'Only partitions with at least this many files (1 dedupes single files too)',
      '2',
    )
    .action(
      action(async (flags: { lake: string; minFiles: string }) => {
        const minFiles = Number(flags.minFiles);
        if (!Number.isInteger(minFiles) || minFiles < 1)
          throw new UsageError('--min-files must be an integer >= 1');
        const stats = await compactLake({ lakeDir: flags.lake, minFiles });
        process.stdout.write(`${JSON.stringify(stats)}\n`);
        return 0;
      }),
    );
  lake
    .command('retention')
    .description('Drop hour partitions that ended more than N days ago (event time, UTC)')
    .requiredOption('--days <n>', 'Days to keep')
    .requiredOption('--lake <dir>', 'Lake root directory')
    .action(
      action(async (flags: { lake: string; days: string }) => {
        const days = Number(flags.days);
        if (!Number.isFinite(days) || days < 0) throw new UsageError('--days must be a number >= 0');
        const stats = await applyRetention({ lakeDir: flags.lake, days });
        process.stdout.write(`${JSON.stringify(stats)}\n`);
        return 0;
      }),
    );
}
