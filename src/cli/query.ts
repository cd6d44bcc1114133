import type { Json } from '@duckdb/node-api';
import type { Command } from 'commander';
import { QueryRejectedError, UsageError } from '../core/errors.ts';
import { LakeQuery, type QueryResult } from '../lake/query.ts';
import { checkLakeDir } from './inputs.ts';
import { action } from './run-action.ts';

/**
 * `socstream query "SQL" --lake DIR [--format table|json|csv]`: SQL over the lake's views (one per
 * log type, `events` over all; docs/lake.md). The CLI belongs to whoever owns the lake, so it runs
 * unlocked (COPY … TO works for exports); the HTTP API uses the locked mode.
 */
export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

interface QueryFlags {
  lake: string;
  format: string;
  maxRows: string;
  timeoutMs: string;
  unionByName?: boolean;
}

function cellText(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes inside. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatCsv(result: QueryResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map((v) => csvField(cellText(v))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A JSON array of row objects (a repeated column name keeps its last value, as in SQL clients). */
export function formatJson(result: QueryResult): string {
  const objects = result.rows.map((row) => {
    const o: Record<string, Json> = {};
    result.columns.forEach((c, i) => {
      o[c.name] = row[i];
    });
    return o;
  });
  return `${JSON.stringify(objects, null, 2)}\n`;
}

/** Aligned columns; numbers right-aligned. */
export function formatTable(result: QueryResult): string {
  const header = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => row.map(cellText));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const numeric = result.rows.length > 0 ? result.rows[0].map((v) => typeof v === 'number') : [];
  const line = (parts: string[]) =>
    parts
      .map((p, i) => (numeric[i] ? p.padStart(widths[i]) : p.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(
    `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})`,
  );
  return `${out.join('\n')}\n`;
}

const FORMATTERS: Record<OutputFormat, (r: QueryResult) => string> = {
  table: formatTable,
  json: formatJson,
  csv: formatCsv,
};

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

export async function runQuery(sql: string, flags: QueryFlags): Promise<string> {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(flags.format)) {
    throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  checkLakeDir(flags.lake);
  if (sql.trim() === '') throw new UsageError('no SQL statement given');
  // Without the flag the lake decides (its recorded layouts); the flag forces merging by name.
  const lake = await LakeQuery.open({
    lakeDir: flags.lake,
    unionByName: flags.unionByName ? true : undefined,
  });
  try {
    const result = await lake.query(sql, {
      maxRows: positiveInt(flags.maxRows, '--max-rows'),
      timeoutMs: positiveInt(flags.timeoutMs, '--timeout-ms'),
    });
    return FORMATTERS[flags.format as OutputFormat](result);
  } catch (err) {
    throw missingViewError(err, flags.lake, lake.views()) ?? sqlUsageError(err) ?? err;
  } finally {
    lake.close();
  }
}

/**
 * DuckDB's answer to a table that is not there suggests one of its own catalog tables ("Did you
 * mean pg_attrdef?"); over the lake the question is which views it has: a usage error listing them.
 */
export function missingViewError(err: unknown, lakeDir: string, views: readonly string[]): UsageError | null {
  const m = /Catalog Error: Table with name (\S+) does not exist/.exec((err as Error)?.message ?? '');
  if (!m) return null;
  const known =
    views.length === 0
      ? `the lake ${lakeDir} holds no Parquet files yet`
      : `the lake ${lakeDir} has the views ${views.join(', ')}`;
  return new UsageError(`no view "${m[1]}": ${known}`);
}

/**
 * DuckDB's kinds of error that mean the statement itself is wrong (it cannot be parsed, names a
 * column or function that is not there, casts a value it cannot): the user's mistake, fixed in the
 * SQL. Anything else (a corrupt file, memory, a timeout) is a runtime failure.
 */
const SQL_MISTAKES = /^(Parser|Binder|Catalog|Conversion|Not implemented) Error: /;

/**
 * Bad SQL as the usage error every command answers with (SOC_USAGE, exit 2): DuckDB's message,
 * which points at the place (LINE 1: … ^), without the "query failed" wrapper or a stack.
 */
export function sqlUsageError(err: unknown): UsageError | null {
  if (!(err instanceof QueryRejectedError)) return null;
  const message = ((err.cause as Error | undefined)?.message ?? '').replace(
    /^Failed to extract statements: /,
    '',
  );
  if (!SQL_MISTAKES.test(message)) return null;
  return new UsageError(`bad SQL: ${message.replace(/\n{2,}/g, '\n').trimEnd()}`);
}

export function register(program: Command): void {
  program
    .command('query')
    .description('SQL over the Parquet lake: a view per log type (conn, dns, ssh, …) and events over all')
    .argument('<sql>', 'One or more SQL statements; the last one’s rows are printed')
    .requiredOption('--lake <dir>', 'Lake root directory')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--max-rows <n>', 'Print at most this many rows', '1000000')
    .option('--timeout-ms <ms>', 'Interrupt the query after this long', '600000')
    .option(
      '--union-by-name',
      'Always merge file schemas by column name (automatic when the lake recorded several layouts)',
    )
    .action(
      action(async (sql: string, flags: QueryFlags) => {
        process.stdout.write(await runQuery(sql, flags));
        return 0;
      }),
    );
}
