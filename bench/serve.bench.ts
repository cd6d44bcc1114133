/**
 * The HTTP API over a lake of 100,000 events (five Zeek log types over three hours, from the real
 * WRCCDC records in test/fixtures/lake): median and p95 latency of the dashboard's calls — the first
 * page of events, a text search, a source-IP filter, a later page by cursor, the overview's stats and
 * an admin SQL count — through fastify's inject (no network), one request at a time.
 * Run alone: `node bench/serve.bench.ts`. SOCSTREAM_BENCH_QUICK=1 uses 20,000 events.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openLakeAccess } from '../src/serve/lake-access.ts';
import { SqliteAlertStore } from '../src/sinks/alert-store-sqlite.ts';
import { LakeWriter } from '../src/sinks/parquet/writer.ts';
import { HOUR_MS, lakeEnvelopes, START_MS } from '../test/integration/lake-envelopes.ts';
import { benchApi } from './api-app.ts';
import type { BenchRow } from './types.ts';

const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const PER_TYPE = QUICK ? 4_000 : 20_000;
const RUNS = 15;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-bench-serve-'));
  const envelopes = lakeEnvelopes(PER_TYPE, 'serve-bench');
  const writer = new LakeWriter({
    dir: join(dir, 'lake'),
    flushBufferBytes: 64 * 1024 * 1024,
    flushEventCount: 50_000,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger: pino({ level: 'silent' }),
  });
  await writer.start();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < envelopes.length; i += 5000) pending.push(writer.write(envelopes.slice(i, i + 5000)));
  await writer.flush();
  await Promise.all(pending);
  await writer.stop();

  const store = new SqliteAlertStore({ path: join(dir, 'alerts.db') });
  await store.start();
  const lake = await openLakeAccess(join(dir, 'lake'));
  const { app, headers } = await benchApi({ alerts: store, lake });
  const src = String(envelopes[123].normalized.src_ip);
  const first = (await app.inject({ url: '/api/events?limit=100', headers }).then((r) => r.json())) as {
    next_cursor: string;
  };
  const to = START_MS + 3 * HOUR_MS;
  const calls: Array<{ metric: string; method?: 'POST'; url: string; payload?: object }> = [
    { metric: 'GET /api/events first page (100)', url: '/api/events?limit=100' },
    {
      metric: 'GET /api/events next page by cursor',
      url: `/api/events?limit=100&cursor=${first.next_cursor}`,
    },
    { metric: 'GET /api/events?q= text search', url: '/api/events?q=google&limit=100' },
    { metric: 'GET /api/events?src_ip=', url: `/api/events?src_ip=${src}&limit=100` },
    {
      metric: 'GET /api/stats 3 h, 1 min buckets',
      url: `/api/stats?from=${START_MS}&to=${to}&bucket_seconds=60`,
    },
    {
      metric: 'POST /api/query count by log type',
      method: 'POST',
      url: '/api/query',
      payload: { sql: 'SELECT log_type, count(*) FROM events GROUP BY ALL' },
    },
  ];
  const rows: BenchRow[] = [];
  for (const call of calls) {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      const res = await app.inject({
        method: call.method ?? 'GET',
        url: call.url,
        headers,
        payload: call.payload,
      });
      const ms = performance.now() - t0;
      if (res.statusCode !== 200) throw new Error(`${call.url}: ${res.statusCode} ${res.body}`);
      if (i > 0) times.push(ms); // the first run warms DuckDB's file metadata cache
    }
    times.sort((a, b) => a - b);
    const note = `${envelopes.length.toLocaleString('en')} lake rows, ${RUNS} runs`;
    rows.push({
      bench: 'serve',
      metric: `${call.metric} p50`,
      value: quantile(times, 0.5),
      unit: 'ms',
      note,
    });
    rows.push({
      bench: 'serve',
      metric: `${call.metric} p95`,
      value: quantile(times, 0.95),
      unit: 'ms',
      note,
    });
  }
  await app.close();
  await store.close();
  lake.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

if (import.meta.main) {
  for (const r of await run())
    process.stdout.write(`${r.metric}: ${r.value.toFixed(1)} ${r.unit} (${r.note})\n`);
}
