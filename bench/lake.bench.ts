/**
 * The Parquet lake: CPU per event of the LakeWriter (envelopes → typed DuckDB data chunks → zstd
 * Parquet, temp + rename), against the JSON path it replaced measured in the same run, and the
 * time of a count-by-hour query over 1,000,000 rows through the lake views.
 * Run alone: `node bench/lake.bench.ts`. SOCSTREAM_BENCH_QUICK=1 uses smaller inputs.
 *
 * Inputs: the generator's `mixed` scenario (Zeek conn/dns/http/ssl/ssh/notice, Suricata EVE, auth,
 * sshd, nginx, app, threat) through the real engine (parse, normalize, enrich): envelopes of a dozen
 * log types as the process role holds them. Both paths get the same envelope objects; each file is
 * read back (DuckDB read_parquet) and must hold every id once.
 *
 * The baseline is the previous writer's flush, kept here to measure against: each envelope to JSON
 * text (JSON.stringify), NDJSON staging per log type and hour, one DuckDB `COPY (SELECT … FROM
 * read_json(…))` with json_transform per layer. The 1,000,000-row lake for the query is the written
 * lake multiplied by DuckDB (each file copied with new ids), so the query reads real lake files.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { validateConfig } from '../src/config/loader.ts';
import type { Envelope, InputRecord } from '../src/core/envelope.ts';
import { eventTimeOf } from '../src/core/envelope.ts';
import { createLogger } from '../src/core/logger.ts';
import { quoteIdent, sqlString } from '../src/core/sql.ts';
import { createTelemetry } from '../src/core/telemetry.ts';
import { createGenerator } from '../src/generate/generator.ts';
import { LakeQuery } from '../src/lake/query.ts';
import { buildEngine } from '../src/pipeline/build.ts';
import type { ProcessOutput } from '../src/pipeline/processor.ts';
import {
  buildLakeSchema,
  type ColumnKind,
  DUCKDB_TYPE,
  extraFieldsJson,
  type LakeSchema,
} from '../src/sinks/parquet/schema.ts';
import { LakeWriter } from '../src/sinks/parquet/writer.ts';
import type { BenchRow } from './types.ts';

const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const EVENTS = QUICK ? 20_000 : 100_000;
const QUERY_ROWS = 1_000_000;
const QUERY_RUNS = 5;
const HOUR_MS = 3_600_000;
const DUCKDB_MEMORY_MB = 256;

const silent = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });

/** `count` envelopes of the mixed scenario, through the real parse → normalize → enrich. */
export function mixedEnvelopes(count: number): Envelope[] {
  const { processor } = buildEngine(validateConfig({}, 'lake.bench'), {
    logger: silent,
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  const g = createGenerator({ scenario: 'mixed', seed: 7, startMs: Date.parse('2026-01-31T10:00:00Z') });
  const out: ProcessOutput = { envelopes: [], rejects: [], skipped: 0 };
  for (let i = 0; out.envelopes.length < count && i < count * 2; i++) {
    const it = g.nextItem();
    const record: InputRecord = {
      text: it.line,
      byteLength: Buffer.byteLength(it.line),
      position: { kind: 'stream', name: 'lake-bench', sequence: i },
      formatHint: `${it.format}:${it.logTypeHint}`,
      receivedAt: it.timeMs,
    };
    processor.process(record, 'lake-bench', out);
  }
  return out.envelopes.slice(0, count) as Envelope[];
}

interface Cost {
  rows: number;
  seconds: number;
  cpuSeconds: number;
  files: number;
  /** Rows read back from the files, and distinct ids among them. */
  readRows: number;
  readIds: number;
}

/** Process CPU (JS thread + DuckDB's threads) and wall time of `work`. */
async function timed(work: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function readBack(lakeDir: string): Promise<{ files: number; readRows: number; readIds: number }> {
  const files = readdirSync(lakeDir, { recursive: true }).filter((f) =>
    String(f).endsWith('.parquet'),
  ).length;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = sqlString(join(lakeDir, '**', '*.parquet'));
    const reader = await connection.runAndReadAll(
      `SELECT count(*), count(DISTINCT id) FROM read_parquet(${glob}, union_by_name = true)`,
    );
    const [rows, ids] = reader.getRows()[0] as [bigint, bigint];
    return { files, readRows: Number(rows), readIds: Number(ids) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The LakeWriter as the process role drives it: batches of 1,000, then flush. */
async function measureWriter(lakeDir: string, envelopes: readonly Envelope[]): Promise<Cost> {
  const writer = new LakeWriter({
    dir: lakeDir,
    flushBufferBytes: 64 * 1024 * 1024,
    flushEventCount: 100_000,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    duckdbMemoryLimitMb: DUCKDB_MEMORY_MB,
    duckdbThreads: 1,
    logger: silent,
  });
  await writer.start();
  const time = await timed(async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < envelopes.length; i += 1000) pending.push(writer.write(envelopes.slice(i, i + 1000)));
    // A write suspended on a flush slot adds its rest after a flush: flush until all resolved.
    let settled = false;
    const all = Promise.all(pending).then(() => {
      settled = true;
    });
    while (!settled) {
      await writer.flush();
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
  });
  await writer.stop();
  return { rows: envelopes.length, ...time, ...(await readBack(lakeDir)) };
}

/** The json_transform structure of one layer: key → DuckDB type (timestamps read as BIGINT ms). */
function structureOf(entries: ReadonlyArray<{ key: string; kind: ColumnKind }>): string {
  const shape: Record<string, string> = {};
  for (const e of entries) {
    shape[e.key] = e.kind === 'timestamp' ? 'BIGINT' : e.kind === 'json' ? 'JSON' : DUCKDB_TYPE[e.kind];
  }
  return sqlString(JSON.stringify(shape));
}

function selectColumn(kind: ColumnKind, expr: string, name: string): string {
  if (kind === 'timestamp') return `epoch_ms(${expr})::TIMESTAMP_MS AS ${quoteIdent(name)}`;
  if (kind === 'json') return `${expr}::VARCHAR AS ${quoteIdent(name)}`;
  return `${expr} AS ${quoteIdent(name)}`;
}

/** The baseline's COPY: one staging NDJSON file → one Parquet file (the previous writer's SQL). */
function jsonCopySql(schema: LakeSchema, stagingPath: string, targetPath: string): string {
  const normalized = schema.columns.filter((c) => c.from === 'normalized');
  const enriched = schema.columns.filter((c) => c.from === 'enriched');
  const select: string[] = [];
  for (const c of schema.columns) {
    if (c.from === 'normalized') select.push(selectColumn(c.kind, `n.${quoteIdent(c.key)}`, c.name));
    else if (c.from === 'enriched') select.push(selectColumn(c.kind, `e.${quoteIdent(c.key)}`, c.name));
    else if (c.from === 'raw' || c.from === 'extra') select.push(`${c.from}::VARCHAR AS ${c.name}`);
    else select.push(`${c.from} AS ${c.name}`);
  }
  return (
    `COPY (SELECT ${select.join(', ')} FROM (SELECT id, source, log_type, raw, extra, ` +
    `json_transform(normalized, ${structureOf(normalized)}) AS n, ` +
    `json_transform(enriched, ${structureOf(enriched)}) AS e ` +
    `FROM read_json(${sqlString(stagingPath)}, format = 'newline_delimited', ` +
    `columns = {id: 'VARCHAR', source: 'VARCHAR', log_type: 'VARCHAR', normalized: 'JSON', ` +
    `enriched: 'JSON', raw: 'JSON', extra: 'JSON'}))) ` +
    `TO ${sqlString(targetPath)} (FORMAT parquet, COMPRESSION zstd)`
  );
}

/** The baseline: JSON text per envelope → NDJSON per log type and hour → COPY … read_json. */
async function measureJsonBaseline(lakeDir: string, envelopes: readonly Envelope[]): Promise<Cost> {
  const schema = buildLakeSchema();
  const staging = join(lakeDir, '.staging');
  mkdirSync(staging, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: `${DUCKDB_MEMORY_MB}MB`,
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  const time = await timed(async () => {
    const lines = new Map<string, string[]>();
    for (const env of envelopes) {
      let line = JSON.stringify(env);
      const extra = extraFieldsJson(env, schema);
      if (extra !== null) line = `${line.slice(0, -1)},"extra":${extra}}`;
      const key = `${env.log_type}\t${Math.floor(eventTimeOf(env, Date.now()) / HOUR_MS)}`;
      let list = lines.get(key);
      if (list === undefined) {
        list = [];
        lines.set(key, list);
      }
      list.push(line);
    }
    let n = 0;
    for (const [key, list] of lines) {
      const [logType, bucket] = key.split('\t');
      const stagingPath = join(staging, `${n}.ndjson`);
      writeFileSync(stagingPath, `${list.join('\n')}\n`);
      const dir = join(lakeDir, logType, `bucket=${bucket}`);
      mkdirSync(dir, { recursive: true });
      await connection.run(jsonCopySql(schema, stagingPath, join(dir, `events_${n++}.parquet`)));
    }
  });
  connection.closeSync();
  instance.closeSync();
  rmSync(staging, { recursive: true, force: true });
  return { rows: envelopes.length, ...time, ...(await readBack(lakeDir)) };
}

/** Copies every file of the lake `times - 1` more times with new ids, in place. */
async function multiplyLake(lakeDir: string, times: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const files = readdirSync(lakeDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.parquet'));
    for (const f of files) {
      const path = join(lakeDir, f);
      for (let k = 1; k < times; k++) {
        const target = path.replace(/\.parquet$/, `_x${k}.parquet`);
        await connection.run(
          `COPY (SELECT * REPLACE (id || '_x${k}' AS id) FROM read_parquet(${sqlString(path)})) ` +
            `TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
        );
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function run(): Promise<BenchRow[]> {
  const lakeDir = mkdtempSync(join(tmpdir(), 'socstream-bench-lake-'));
  const baselineDir = mkdtempSync(join(tmpdir(), 'socstream-bench-lake-json-'));
  try {
    const envelopes = mixedEnvelopes(EVENTS);
    const logTypes = new Set(envelopes.map((e) => e.log_type)).size;
    const baseline = await measureJsonBaseline(baselineDir, envelopes);
    rmSync(baselineDir, { recursive: true, force: true });
    const write = await measureWriter(lakeDir, envelopes);
    for (const c of [write, baseline]) {
      if (c.readRows !== c.rows || c.readIds !== c.rows)
        throw new Error(
          `lake bench: wrote ${c.rows} envelopes, read back ${c.readRows} rows, ${c.readIds} ids`,
        );
    }
    await multiplyLake(lakeDir, Math.ceil(QUERY_ROWS / write.rows));
    const lake = await LakeQuery.open({ lakeDir });
    const timings: number[] = [];
    let total = 0;
    try {
      for (let i = 0; i < QUERY_RUNS; i++) {
        const r = await lake.query('select hour, count(*) from events group by hour order by hour');
        timings.push(r.elapsedMs);
        total = r.rows.reduce((n, row) => n + Number(row[1]), 0);
      }
    } finally {
      lake.close();
    }
    timings.sort((a, b) => a - b);
    const usPerRow = (c: Cost) => Math.round((c.cpuSeconds / c.rows) * 1e7) / 10;
    return [
      {
        bench: 'lake',
        metric: 'lake write CPU per event',
        value: usPerRow(write),
        unit: 'µs/event',
        note: `${write.rows} mixed envelopes of ${logTypes} log types → ${write.files} zstd files, read back (every id once); process CPU (JS + DuckDB threads); JSON path in the same run: ${usPerRow(baseline)} µs (ratio ${(usPerRow(write) / usPerRow(baseline)).toFixed(2)})`,
      },
      {
        bench: 'lake',
        metric: 'lake write CPU per event, JSON path (baseline)',
        value: usPerRow(baseline),
        unit: 'µs/event',
        note: 'the previous writer: JSON.stringify + NDJSON staging + COPY … read_json (json_transform), same envelopes',
      },
      {
        bench: 'lake',
        metric: 'lake write rows/s',
        value: Math.round(write.rows / write.seconds),
        unit: 'rows/s',
        note: `wall clock, batches of 1,000 (JSON path: ${Math.round(baseline.rows / baseline.seconds)} rows/s)`,
      },
      {
        bench: 'lake',
        metric: `count-by-hour query over ${total.toLocaleString('en')} rows`,
        value: Math.round(timings[Math.floor(timings.length / 2)]),
        unit: 'ms',
        note: `median of ${QUERY_RUNS}, events view over ${logTypes} log types`,
      },
    ];
  } finally {
    rmSync(lakeDir, { recursive: true, force: true });
    rmSync(baselineDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
