import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { SinkUnavailableError } from '../../../src/core/errors.ts';
import { createTelemetry, type Telemetry } from '../../../src/core/telemetry.ts';
import {
  isStorageFull,
  LakeWriter,
  type LakeWriterOptions,
  partitionPath,
} from '../../../src/sinks/parquet/writer.ts';
import { manyEnvelopes, zeekEnvelope, zeekFixtureLines } from '../../lake/envelopes.ts';
import { parquetFiles, readParquetRows } from '../../lake/read-parquet.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2018-03-24T17:15:20Z');
const HOUR = 3_600_000;

let dirs: string[] = [];
let writers: LakeWriter[] = [];
afterEach(async () => {
  for (const w of writers) await w.stop().catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
  writers = [];
});

async function newWriter(
  options: Partial<LakeWriterOptions>,
): Promise<{ writer: LakeWriter; dir: string; telemetry: Telemetry }> {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-lake-'));
  dirs.push(dir);
  const telemetry = createTelemetry({ defaultMetrics: false });
  const writer = new LakeWriter({
    dir,
    flushBufferBytes: 0,
    flushEventCount: 0,
    flushIntervalMs: 0,
    maxPendingFlushes: 2,
    typedRawColumns: false,
    logger,
    telemetry,
    ...options,
  });
  await writer.start();
  writers.push(writer);
  return { writer, dir, telemetry };
}

async function allRows(dir: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of await parquetFiles(dir)) rows.push(...(await readParquetRows(join(dir, f))));
  return rows;
}

async function flushCount(telemetry: Telemetry, reason: string): Promise<number> {
  const metric = await telemetry.flushes.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** True when `promise` has not settled after the event loop had `ms` to run. */
async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([promise.then(() => 'settled'), sleep(ms).then(() => marker)]);
  return winner === marker;
}

describe('lake writer flush conditions', () => {
  test('flush_event_count alone: every N events of a log type become one file; the rest waits', async () => {
    const { writer, dir, telemetry } = await newWriter({ flushEventCount: 5 });
    await writer.write(manyEnvelopes('dns', 10, T0, 1000));
    const files = await parquetFiles(dir);
    assert.equal(files.length, 2);
    for (const f of files) assert.equal((await readParquetRows(join(dir, f))).length, 5);
    assert.equal(await flushCount(telemetry, 'count'), 2);

    const rest = writer.write(manyEnvelopes('dns', 3, T0, 1000, 'b'));
    assert.equal(await stillPending(rest, 300), true, 'a write below every threshold waits for a flush');
    await writer.flush();
    await rest;
    assert.equal((await parquetFiles(dir)).length, 3);
    assert.equal(await flushCount(telemetry, 'explicit'), 1);
  });

  test('flush_buffer_mb alone: a buffer flushes when its buffered size reaches the limit', async () => {
    // Same raw line, same-length ids and times: every event buffers the same number of bytes.
    const raw = zeekFixtureLines('ssl')[0];
    const events = Array.from({ length: 8 }, (_, i) => zeekEnvelope(raw, i, T0 + i * 1000));
    const probe = await newWriter({});
    const probed = probe.writer.write([events[0]]);
    const oneEventBytes = probe.writer.bufferedBytes();
    assert.ok(oneEventBytes > JSON.stringify(events[0].raw).length, 'the raw JSON is part of the size');
    await probe.writer.flush();
    await probed;
    const { writer, dir, telemetry } = await newWriter({ flushBufferBytes: oneEventBytes * 4 });
    await writer.write(events);
    const files = await parquetFiles(dir);
    assert.equal(files.length, 2);
    assert.equal((await allRows(dir)).length, 8);
    assert.equal(await flushCount(telemetry, 'size'), 2);
    assert.equal(await flushCount(telemetry, 'count'), 0);
  });

  test('flush_interval_seconds alone: a partly filled buffer is flushed when it gets old', async () => {
    const { writer, dir, telemetry } = await newWriter({ flushIntervalMs: 200 });
    await writer.write(manyEnvelopes('ssh', 3, T0, 1000));
    assert.equal((await parquetFiles(dir)).length, 1);
    assert.equal((await allRows(dir)).length, 3);
    assert.equal(await flushCount(telemetry, 'interval'), 1);
  });

  test('with every condition at 0 nothing flushes until flush() is called', async () => {
    const { writer, dir } = await newWriter({});
    const pending = writer.write(manyEnvelopes('dns', 50, T0, 10));
    assert.equal(await stillPending(pending, 300), true);
    assert.deepEqual(await parquetFiles(dir), []);
    await writer.flush();
    await pending;
    assert.equal((await allRows(dir)).length, 50);
  });
});

describe('lake layout', () => {
  test('files land in <log_type>/year=/month=/day=/hour= of the event time (UTC), one per hour', async () => {
    const { writer, dir } = await newWriter({});
    const events = [
      ...manyEnvelopes('dns', 4, T0, 1000),
      ...manyEnvelopes('dns', 4, T0 + HOUR, 1000, 'h2'),
      ...manyEnvelopes('ssh', 2, T0 + 7 * HOUR, 1000),
    ];
    const done = writer.write(events);
    await writer.flush();
    await done;
    const files = await parquetFiles(dir);
    assert.equal(files.length, 3);
    const pattern =
      /^(dns|ssh)\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/events_(dns|ssh)_[A-Za-z0-9_]+\.parquet$/;
    for (const f of files) assert.match(f, pattern);
    assert.ok(files[0].startsWith('dns/year=2018/month=03/day=24/hour=17/events_dns_'));
    assert.ok(files[1].startsWith('dns/year=2018/month=03/day=24/hour=18/events_dns_'));
    // 17:15 + 7 h crosses midnight UTC.
    assert.ok(files[2].startsWith('ssh/year=2018/month=03/day=25/hour=00/events_ssh_'));
  });

  test('partitionPath zero-pads and uses UTC', () => {
    assert.equal(
      partitionPath(Math.floor(Date.parse('2026-01-02T03:59:59Z') / HOUR)),
      'year=2026/month=01/day=02/hour=03',
    );
  });

  test('a hostile log type cannot escape the lake directory', async () => {
    const { writer, dir } = await newWriter({});
    const env = manyEnvelopes('dns', 1, T0, 0)[0];
    env.log_type = '../../etc';
    const done = writer.write([env]);
    await writer.flush();
    await done;
    const files = await parquetFiles(dir);
    assert.equal(files.length, 1);
    assert.ok(files[0].startsWith('______etc/'), files[0]);
  });
});

describe('lake files', () => {
  test('an independent reader (hyparquet) finds every row with its columns and raw JSON', async () => {
    const { writer, dir } = await newWriter({});
    const raws = zeekFixtureLines('dns');
    const events = raws.map((r, i) => zeekEnvelope(r, i));
    const done = writer.write(events);
    await writer.flush();
    await done;
    const rows = await allRows(dir);
    assert.equal(rows.length, events.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const env of events) {
      const row = byId.get(env.id);
      assert.ok(row, `row ${env.id} missing`);
      assert.equal(row.source, 'zeek');
      assert.equal(row.log_type, 'dns');
      assert.equal(row.src_ip, env.normalized.src_ip);
      assert.equal(Number(row.dst_port), env.normalized.dst_port);
      assert.equal(row.dns_query, env.normalized.dns_query);
      assert.deepEqual(row.dns_answers, env.normalized.dns_answers);
      assert.equal(row.src_ip_is_private, true);
      assert.equal(new Date(row.event_time as Date).getTime(), env.normalized.event_time);
      assert.deepEqual(JSON.parse(row.raw as string), env.raw);
    }
  });

  test('a value of the wrong type becomes NULL in its column and the file is still written', async () => {
    const { writer, dir } = await newWriter({});
    const env = manyEnvelopes('ssh', 1, T0, 0)[0];
    env.normalized.src_port = 'not-a-port';
    const done = writer.write([env]);
    await writer.flush();
    await done;
    const [row] = await allRows(dir);
    assert.equal(row.src_port, null);
    assert.equal(JSON.parse(row.raw as string)['id.orig_p'], env.raw['id.orig_p']);
  });

  test('fields outside the canonical dictionary are kept in the extra JSON column', async () => {
    const { writer, dir } = await newWriter({});
    const env = manyEnvelopes('ssh', 1, T0, 0)[0];
    env.normalized.x_lab_ticket = 'INC-1042';
    env.enriched.x_site = 'lab';
    const done = writer.write([env]);
    await writer.flush();
    await done;
    const [row] = await allRows(dir);
    assert.deepEqual(JSON.parse(row.extra as string), { x_lab_ticket: 'INC-1042', x_site: 'lab' });
  });

  test('typed raw columns: raw fields also become typed columns named raw_<field>', async () => {
    const { writer, dir } = await newWriter({ typedRawColumns: true });
    const events = zeekFixtureLines('ssh').map((r, i) => zeekEnvelope(r, i));
    const done = writer.write(events);
    await writer.flush();
    await done;
    const rows = await allRows(dir);
    assert.equal(rows.length, events.length);
    const first = rows.find((r) => r.id === events[0].id);
    assert.ok(first);
    assert.equal(first.raw_id_orig_h, events[0].raw['id.orig_h']);
    assert.equal(Number(first.raw_auth_attempts), events[0].raw.auth_attempts);
    assert.equal(first.raw_auth_success, events[0].raw.auth_success);
  });

  test('a reader polling during flushes never sees a partial file (temp name + rename)', async () => {
    const { writer, dir } = await newWriter({ flushEventCount: 40, maxPendingFlushes: 2 });
    let polling = true;
    let filesRead = 0;
    const failures: string[] = [];
    const poller = (async () => {
      while (polling) {
        for (const f of await parquetFiles(dir)) {
          try {
            const rows = await readParquetRows(join(dir, f));
            if (rows.length !== 40) failures.push(`${f}: ${rows.length} rows`);
            filesRead++;
          } catch (err) {
            failures.push(`${f}: ${(err as Error).message}`);
          }
        }
        await sleep(5);
      }
    })();
    for (let i = 0; i < 10; i++) await writer.write(manyEnvelopes('dns', 80, T0, 100, `p${i}`));
    polling = false;
    await poller;
    assert.deepEqual(failures, []);
    assert.ok(filesRead > 0);
    assert.equal((await parquetFiles(dir)).length, 20);
    const leftovers = (await readdir(dir, { recursive: true })).filter((n) => String(n).endsWith('.tmp'));
    assert.deepEqual(leftovers, []);
  });

  test('backpressure: with one flush slot, concurrent writes that fill buffers wait and all complete', async () => {
    const { writer, dir, telemetry } = await newWriter({ flushEventCount: 10, maxPendingFlushes: 1 });
    const writes = [];
    for (let i = 0; i < 5; i++) writes.push(writer.write(manyEnvelopes('ssl', 30, T0, 10, `bp${i}`)));
    // Writers blocked on the slot add their events later; flush whatever is left until all resolve.
    const all = Promise.all(writes);
    while (await stillPending(all, 100)) await writer.flush();
    assert.equal((await allRows(dir)).length, 150);
    assert.ok((await flushCount(telemetry, 'count')) >= 10);
  });

  test('a file that cannot be written is retried, then the write rejects and nothing is acked', async () => {
    const { writer, dir, telemetry } = await newWriter({});
    // A plain file where the dns directory should be: every dns partition mkdir fails.
    await writeFile(join(dir, 'dns'), 'in the way');
    const done = writer.write([...manyEnvelopes('dns', 5, T0, 1000), ...manyEnvelopes('ssh', 5, T0, 1000)]);
    const rejected = assert.rejects(done, SinkUnavailableError);
    await writer.flush();
    await rejected;
    const errors = await telemetry.sinkErrors.get();
    assert.equal(errors.values[0]?.value, 3, 'first try + two retries');
    // The other log type of the same batch was written; the writer keeps working once the cause is gone.
    assert.equal((await parquetFiles(dir)).length, 1);
    await rm(join(dir, 'dns'));
    const again = writer.write(manyEnvelopes('dns', 5, T0, 1000));
    await writer.flush();
    await again;
    assert.equal((await allRows(dir)).length, 10);
  });

  test('storage full (ENOSPC, EDQUOT, EIO, DuckDB IO errors, wrapped) is told apart from other failures', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.equal(isStorageFull(enospc), true);
    assert.equal(isStorageFull(Object.assign(new Error('quota'), { code: 'EDQUOT' })), true);
    assert.equal(
      isStorageFull(new Error('IO Error: Could not write file "/lake/dns/.x.tmp": No space left on device')),
      true,
    );
    assert.equal(isStorageFull(new SinkUnavailableError('lake flush failed', { cause: enospc })), true);
    assert.equal(isStorageFull(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })), false);
    assert.equal(isStorageFull(new Error('Binder Error: column "x" not found')), false);
    assert.equal(isStorageFull(undefined), false);
  });

  test('a replayed batch does not duplicate ids inside one file (the first copy is kept)', async () => {
    const { writer, dir } = await newWriter({});
    const events = manyEnvelopes('dns', 30, T0, 1000);
    const replay = structuredClone(events.slice(10, 20));
    for (const e of replay) e.normalized.dns_query = 'replayed.example';
    const done = Promise.all([writer.write(events), writer.write(replay)]);
    await writer.flush();
    await done;
    const rows = await allRows(dir);
    assert.equal(rows.length, 30);
    assert.equal(new Set(rows.map((r) => r.id)).size, 30);
    assert.equal(rows.filter((r) => r.dns_query === 'replayed.example').length, 0);
  });

  test('rows of several data chunks and buffer columns that appear late all land with their values', async () => {
    const { writer, dir } = await newWriter({});
    // 5,000 rows (three 2,048-row chunks); a field first seen in the last chunk.
    const events = manyEnvelopes('ssl', 5000, T0, 100);
    events[4999].normalized.tls_version = 'TLSv13';
    events[4999].enriched.x_late = 7;
    const done = writer.write(events);
    await writer.flush();
    await done;
    const rows = await allRows(dir);
    assert.equal(rows.length, 5000);
    const late = rows.find((r) => r.id === events[4999].id);
    assert.equal(late?.tls_version, 'TLSv13');
    assert.deepEqual(JSON.parse(String(late?.extra)), { x_late: 7 });
    assert.equal(rows.filter((r) => r.tls_version !== null).length, 1);
    for (const row of rows.slice(0, 50)) {
      const env = events.find((e) => e.id === row.id);
      assert.ok(env);
      assert.equal(Number(row.dst_port), env.normalized.dst_port);
      assert.equal(new Date(row.event_time as Date).getTime(), env.normalized.event_time);
      assert.deepEqual(JSON.parse(row.raw as string), env.raw);
    }
  });

  test('typed raw columns: a field whose values disagree across chunks is widened, no value lost', async () => {
    const { writer, dir } = await newWriter({ typedRawColumns: true });
    // Integers in the first chunk, fractions in the second, text in the third: BIGINT → DOUBLE → JSON text.
    const events = manyEnvelopes('ssh', 5000, T0, 100);
    events.forEach((e, i) => {
      e.raw = { ...e.raw, x_val: i < 2100 ? i : i < 4200 ? i + 0.5 : `s${i}` };
    });
    const done = writer.write(events);
    await writer.flush();
    await done;
    const rows = await allRows(dir);
    assert.equal(rows.length, 5000);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const i of [0, 2099, 2100, 4199, 4200, 4999]) {
      const row = byId.get(events[i].id);
      assert.equal(typeof row?.raw_x_val, 'string', 'the widest kind, JSON text');
      assert.deepEqual(JSON.parse(String(row?.raw_x_val)), events[i].raw.x_val);
    }
  });

  test('the buffers together stay within their share of the DuckDB memory limit: the largest flushes first', async () => {
    // No count, size or interval condition: only the memory bound flushes before flush().
    // 96 MB: at 64 MB DuckDB itself sometimes ran out pinning blocks during the flush (docs/lake.md).
    const { writer, dir, telemetry } = await newWriter({ duckdbMemoryLimitMb: 96 });
    // ~0.6 KB each: above 40 % of 96 MB.
    const events = [...manyEnvelopes('ssl', 72_000, T0, 10), ...manyEnvelopes('dns', 2_000, T0, 10)];
    const done = writer.write(events);
    while (await stillPending(done, 100)) await writer.flush();
    assert.ok((await flushCount(telemetry, 'size')) >= 1, 'flushed by the memory bound');
    const rows = await allRows(dir);
    assert.equal(rows.length, events.length);
    assert.equal(new Set(rows.map((r) => r.id)).size, events.length);
  });

  test("the writer's DuckDB instance runs with the configured limit, threads and allocator thread", async () => {
    const { writer, dir } = await newWriter({ duckdbMemoryLimitMb: 96, duckdbThreads: 1 });
    const settings = await writer.duckdbSettings();
    // DuckDB reports 96 MB (10^6 bytes) in MiB.
    assert.equal(settings.memory_limit, '91.5 MiB');
    assert.equal(settings.threads, '1');
    assert.equal(settings.preserve_insertion_order, 'false');
    assert.equal(settings.allocator_background_threads, 'true', 'on by default');
    assert.ok(settings.temp_directory?.startsWith(join(dir, '.staging')), settings.temp_directory);
    const off = await newWriter({ duckdbMemoryLimitMb: 128, duckdbAllocatorBackgroundThreads: false });
    const offSettings = await off.writer.duckdbSettings();
    assert.equal(offSettings.allocator_background_threads, 'false');
    assert.equal(offSettings.memory_limit, '122.0 MiB');
  });

  test('a write to a stopped writer is refused instead of waiting forever', async () => {
    const { writer } = await newWriter({ flushEventCount: 1 });
    await writer.stop();
    await assert.rejects(writer.write(manyEnvelopes('dns', 1, T0, 0)), SinkUnavailableError);
  });
});
