/**
 * The Parquet lake: write throughput of the LakeWriter (envelopes → zstd Parquet, temp + rename)
 * and the time of a count-by-hour query over 1,000,000 rows through the lake views.
 * Run alone: `node bench/lake.bench.ts`. SOCSTREAM_BENCH_QUICK=1 uses smaller inputs.
 *
 * Inputs: envelopes of five log types (conn, dns, http, ssh, ssl) over three hours, built from the
 * real WRCCDC Zeek records in test/fixtures/lake (test/integration/lake-envelopes.ts). The
 * 1,000,000-row lake for the query is the written lake multiplied by DuckDB (each file copied with
 * new ids into its own partition), so the query reads real lake files of the real layout.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { sqlString } from '../src/core/sql.ts';
import { LakeQuery } from '../src/lake/query.ts';
import { LakeWriter } from '../src/sinks/parquet/writer.ts';
import { LOG_TYPES, lakeEnvelopes } from '../test/integration/lake-envelopes.ts';
import type { BenchRow } from './types.ts';

const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const PER_TYPE = QUICK ? 10_000 : 40_000;
const QUERY_ROWS = 1_000_000;
const QUERY_RUNS = 5;

async function measureWrite(
  lakeDir: string,
): Promise<{ rows: number; seconds: number; cpuSeconds: number; files: number }> {
  const envelopes = lakeEnvelopes(PER_TYPE, 'bench');
  const writer = new LakeWriter({
    dir: lakeDir,
    flushBufferBytes: 64 * 1024 * 1024,
    flushEventCount: 50_000,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  await writer.start();
  const started = performance.now();
  // Process CPU (JS thread + DuckDB's threads): on a shared machine wall time mostly measures the queue.
  const cpuBefore = process.cpuUsage();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < envelopes.length; i += 1000) pending.push(writer.write(envelopes.slice(i, i + 1000)));
  await writer.flush();
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  await writer.stop();
  const files = readdirSync(lakeDir, { recursive: true }).filter((f) =>
    String(f).endsWith('.parquet'),
  ).length;
  return { rows: envelopes.length, seconds, cpuSeconds, files };
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
  try {
    const write = await measureWrite(lakeDir);
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
    return [
      {
        bench: 'lake',
        metric: 'lake write rows/s',
        value: Math.round(write.rows / write.seconds),
        unit: 'rows/s',
        note: `${write.rows} envelopes of ${LOG_TYPES.length} log types over 3 h → ${write.files} zstd files (flush at 50,000), wall clock`,
      },
      {
        bench: 'lake',
        metric: 'lake write rows per CPU second',
        value: Math.round(write.rows / write.cpuSeconds),
        unit: 'rows/cpu-s',
        note: 'process CPU (JS + DuckDB threads): the rate on an unshared core',
      },
      {
        bench: 'lake',
        metric: `count-by-hour query over ${total.toLocaleString('en')} rows`,
        value: Math.round(timings[Math.floor(timings.length / 2)]),
        unit: 'ms',
        note: `median of ${QUERY_RUNS}, events view over ${LOG_TYPES.length} log types × 3 hour partitions`,
      },
    ];
  } finally {
    rmSync(lakeDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
