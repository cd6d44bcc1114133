import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValueConverter,
  type Json,
  JsonDuckDBValueConverter,
  StatementType,
} from '@duckdb/node-api';
import { QueryRejectedError } from '../core/errors.ts';
import { quoteIdent, sqlString } from '../core/sql.ts';
import { SCHEMAS_DIR, TYPED_RAW_MARKER } from '../sinks/parquet/writer.ts';

/**
 * SQL over the Parquet lake (DuckDB). One view per log type directory (`conn`, `dns`, `ssh`,
 * `alert`, …) and `events` over all of them, with hive partitioning, so `year`/`month`/`day`/`hour`
 * are columns and a filter on them skips whole directories without opening a file. A filter on
 * `event_time` is answered from the Parquet row-group statistics (each file's footer is still read).
 *
 * Locked mode (the HTTP API): after the views exist, `allowed_directories` is set to the lake,
 * external access is switched off and the configuration locked, so a query can read only the lake
 * (read_csv('/etc/passwd') fails with a permission error), cannot install or load extensions, and
 * cannot undo any of it with SET. On top, a statement allow-list: exactly one SELECT (WITH … SELECT
 * included); COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL, CREATE … are refused before running.
 * Each query has a timeout (connection.interrupt()) and a row limit.
 */
export interface LakeQueryOptions {
  lakeDir: string;
  /** Sandbox for untrusted SQL (the API); the CLI runs unlocked for the lake owner. */
  locked?: boolean;
  threads?: number;
  /** DuckDB memory_limit, e.g. '1GB'. */
  memoryLimit?: string;
  /**
   * Merge differing file schemas by column name. It costs reading every file's footer when a view
   * binds (which also reads partitions a filter would skip), so by default it is on only when the
   * lake says its files differ: more than one layout recorded in `<lake>/.schemas/` (the field
   * dictionary grew between versions) or typed raw columns (see recordSchema in the writer).
   */
  unionByName?: boolean;
}

export interface QueryOptions {
  timeoutMs?: number;
  /** Absolute deadline on performance.now()'s clock (a query pool's wait counts against it). */
  deadline?: number;
  maxRows?: number;
  /** Most bytes of JSON rows returned; the rest is cut (truncated: true). */
  maxBytes?: number;
}

export interface ViewProblem {
  view: string;
  error: string;
}

export interface QueryColumn {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: QueryColumn[];
  /** Rows as arrays in column order (column names may repeat in SQL, object keys cannot). */
  rows: Json[][];
  /** True when the result had more than maxRows rows (or maxBytes of JSON) and was cut. */
  truncated: boolean;
  elapsedMs: number;
}

/** The partition columns; explicit types so every reader agrees (and `hour = 7` compares numbers). */
const HIVE_TYPES = "{'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}";
/** `<log_type>/year=/month=/day=/hour=/file`: five levels below the lake root. */
const FILES_PER_TYPE = '*/*/*/*/*.parquet';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_ROWS = 10_000;
/** After the deadline, interrupt again this often until the query has ended. */
const INTERRUPT_REPEAT_MS = 50;
const UNION_VIEW = 'events';

function readParquetSql(glob: string, unionByName: boolean): string {
  return `read_parquet(${sqlString(glob)}, hive_partitioning = true, union_by_name = ${unionByName}, hive_types = ${HIVE_TYPES})`;
}

/**
 * The same table as a view's, over a list of files of the lake (lake/hour-files.ts) instead of a
 * glob: the hive columns come from the listed paths, the columns bind from the first listed file.
 */
export function readParquetFilesSql(files: readonly string[], unionByName: boolean): string {
  return `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = true, union_by_name = ${unionByName}, hive_types = ${HIVE_TYPES})`;
}

/** 64-bit integers become numbers when exact, strings otherwise; the rest follows DuckDB's JSON conversion. */
const jsonConverter: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return JsonDuckDBValueConverter(value, type, converter);
};

/** Log type directories that hold at least one Parquet file (a view over no files cannot bind). */
export async function lakeLogTypes(lakeDir: string): Promise<string[]> {
  const entries = await readdir(lakeDir, { withFileTypes: true }).catch(() => []);
  const types: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const files = await readdir(join(lakeDir, entry.name), { recursive: true }).catch(() => []);
    if (files.some((f) => String(f).endsWith('.parquet'))) types.push(entry.name);
  }
  return types.sort();
}

/** True when the writers recorded more than one column layout, or typed raw columns. */
export async function layoutsDiffer(lakeDir: string): Promise<boolean> {
  const names = await readdir(join(lakeDir, SCHEMAS_DIR)).catch(() => [] as string[]);
  return names.includes(TYPED_RAW_MARKER) || names.filter((n) => n.endsWith('.json')).length > 1;
}

/** Why a statement is refused before it runs, or null when it may run. */
export function refusalFor(statementCount: number, statementType: StatementType): string | null {
  if (statementCount !== 1) return `exactly one statement is allowed, got ${statementCount}`;
  if (statementType !== StatementType.SELECT) {
    return `only SELECT (or WITH … SELECT) is allowed, got ${StatementType[statementType] ?? statementType}`;
  }
  return null;
}

export class LakeQuery {
  readonly lakeDir: string;
  readonly locked: boolean;
  readonly unionByName: boolean;
  readonly #instance: DuckDBInstance;
  #views: string[] = [];
  #problems: ViewProblem[] = [];

  private constructor(lakeDir: string, locked: boolean, unionByName: boolean, instance: DuckDBInstance) {
    this.lakeDir = lakeDir;
    this.locked = locked;
    this.unionByName = unionByName;
    this.#instance = instance;
  }

  static async open(options: LakeQueryOptions): Promise<LakeQuery> {
    const lakeDir = resolve(options.lakeDir);
    const config: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    // Keep each Parquet file's footer between queries (DuckDB checks the file's modification time
    // before using it): lake files are written once under new names, so the dashboard's repeated
    // queries over a day's 120+ files stop re-reading every footer (the console bench's external
    // sources over 24 h: 437 → 272 ms median, paired). A parquet setting: set once loaded, not at create.
    const setup = await instance.connect();
    try {
      await setup.run('SET GLOBAL parquet_metadata_cache = true');
    } finally {
      setup.closeSync();
    }
    const unionByName = options.unionByName ?? (await layoutsDiffer(lakeDir));
    const lake = new LakeQuery(lakeDir, options.locked === true, unionByName, instance);
    await lake.refresh();
    if (lake.locked) await lake.#lockDown();
    return lake;
  }

  /** The views that exist: one per log type, plus `events` when the lake has any file. */
  views(): string[] {
    return [...this.#views];
  }

  /** (Re)creates the views from the log type directories present now (new log types appear). */
  async refresh(): Promise<void> {
    const types = await lakeLogTypes(this.lakeDir);
    const connection = await this.#instance.connect();
    try {
      const views: string[] = [];
      const problems: ViewProblem[] = [];
      // One unreadable file (say, copied in by hand) must not take every other view down with it.
      const create = async (view: string, glob: string): Promise<void> => {
        try {
          await connection.run(
            `CREATE OR REPLACE VIEW ${quoteIdent(view)} AS SELECT * FROM ${readParquetSql(glob, this.unionByName)}`,
          );
          views.push(view);
        } catch (err) {
          problems.push({ view, error: (err as Error).message });
        }
      };
      for (const type of types) {
        if (type !== UNION_VIEW) await create(type, join(this.lakeDir, type, FILES_PER_TYPE));
      }
      if (views.length > 0) await create(UNION_VIEW, join(this.lakeDir, '*', FILES_PER_TYPE));
      this.#views = views;
      this.#problems = problems;
    } finally {
      connection.closeSync();
    }
  }

  /** Views that could not be created at the last refresh, with DuckDB's reason. */
  problems(): ViewProblem[] {
    return [...this.#problems];
  }

  /**
   * Runs one query; in locked mode only a single SELECT passes. At the deadline the connection is
   * interrupted, and again every 50 ms until the query has ended: one interrupt can land before
   * DuckDB started executing (it is then lost) or between two statements, so a single one does
   * not hold under load.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
    const started = performance.now();
    const deadline = Math.min(options.deadline ?? Number.POSITIVE_INFINITY, started + timeoutMs);
    const connection = await this.#instance.connect();
    let timedOut = false;
    let repeat: NodeJS.Timeout | undefined;
    const timer = setTimeout(
      () => {
        timedOut = true;
        connection.interrupt();
        repeat = setInterval(() => connection.interrupt(), INTERRUPT_REPEAT_MS);
      },
      Math.max(0, deadline - started),
    );
    try {
      const result = await this.#run(connection, sql, maxRows, options.maxBytes, started, () => timedOut);
      if (timedOut) throw new QueryRejectedError(`query timed out after ${timeoutMs} ms`);
      return result;
    } catch (err) {
      if (timedOut) {
        throw new QueryRejectedError(`query timed out after ${timeoutMs} ms`, {
          cause: err,
        });
      }
      if (err instanceof QueryRejectedError) throw err;
      throw new QueryRejectedError(`query failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      clearInterval(repeat);
      connection.closeSync();
    }
  }

  close(): void {
    this.#instance.closeSync();
  }

  async #run(
    connection: DuckDBConnection,
    sql: string,
    maxRows: number,
    maxBytes: number | undefined,
    started: number,
    timedOut: () => boolean,
  ): Promise<QueryResult> {
    const extracted = await connection.extractStatements(sql);
    if (extracted.count === 0) throw new QueryRejectedError('empty query');
    if (this.locked && extracted.count !== 1) {
      throw new QueryRejectedError(refusalFor(extracted.count, StatementType.SELECT) ?? 'refused');
    }
    // Unlocked (CLI) runs every statement and returns the last one's rows.
    for (let i = 0; i < extracted.count - 1; i++) await (await extracted.prepare(i)).run();
    const prepared = await extracted.prepare(extracted.count - 1);
    if (this.locked) {
      const refusal = refusalFor(1, prepared.statementType);
      if (refusal !== null) throw new QueryRejectedError(refusal);
    }
    const result = await prepared.stream();
    const names = result.columnNames();
    const types = result.columnTypes();
    const columns = names.map((name, i) => ({ name, type: types[i].toString() }));
    const rows: Json[][] = [];
    let truncated = false;
    let bytes = 0;
    for await (const chunk of result.yieldConvertedRows(jsonConverter)) {
      for (const row of chunk) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        if (maxBytes !== undefined) {
          // The response's size, measured as it is built: a 100 MB string_agg is cut, not sent.
          bytes += JSON.stringify(row).length + 1;
          if (bytes > maxBytes) {
            truncated = true;
            break;
          }
        }
        rows.push(row as Json[]);
      }
      if (truncated || timedOut()) break;
    }
    return { columns, rows, truncated, elapsedMs: performance.now() - started };
  }

  /** Only the lake is readable from now on, and no setting can change that. */
  async #lockDown(): Promise<void> {
    const connection = await this.#instance.connect();
    try {
      await connection.run(`SET allowed_directories = [${sqlString(`${this.lakeDir}/`)}]`);
      await connection.run('SET enable_external_access = false');
      await connection.run('SET allow_community_extensions = false');
      await connection.run('SET lock_configuration = true');
    } finally {
      connection.closeSync();
    }
  }
}
