/**
 * Source throughput: how fast the file source frames real lines off disk and hands them on with
 * acks and checkpoint writes (the path every file input takes), plus the framers alone in memory.
 * Run alone: `node bench/sources.bench.ts`. SOCSTREAM_BENCH_QUICK=1 uses smaller inputs.
 *
 * Input: WRCCDC 2018 Zeek TSV dns + ssl + weird lines (../shared/data/zeek-tsv/wrccdc2018-zeek6.2),
 * repeated to TARGET_BYTES in a temp file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../src/core/logger.ts';
import { createTelemetry } from '../src/core/telemetry.ts';
import { fileSource } from '../src/sources/file.ts';
import { type FramedLine, LineFramer } from '../src/sources/lines.ts';
import { type SyslogMessage, SyslogTcpFramer } from '../src/sources/syslog.ts';
import type { BenchRow } from './types.ts';

const DATA = new URL('../../shared/data/zeek-tsv/wrccdc2018-zeek6.2/', import.meta.url).pathname;
const TARGET_BYTES = (process.env.SOCSTREAM_BENCH_QUICK === '1' ? 16 : 64) << 20;

function corpus(): Buffer {
  const lines = ['dns', 'ssl', 'weird'].flatMap((t) =>
    readFileSync(join(DATA, `${t}.log`), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#')),
  );
  const one = Buffer.from(`${lines.join('\n')}\n`);
  return Buffer.concat(Array.from({ length: Math.ceil(TARGET_BYTES / one.length) }, () => one));
}

function rate(
  bench: string,
  what: string,
  lines: number,
  bytes: number,
  seconds: number,
  note: string,
): BenchRow[] {
  return [
    { bench, metric: `${what} lines/s`, value: Math.round(lines / seconds), unit: 'lines/s', note },
    {
      bench,
      metric: `${what} MB/s`,
      value: Math.round((bytes / seconds / 1e6) * 10) / 10,
      unit: 'MB/s',
      note,
    },
  ];
}

async function fileSourceRun(dir: string, input: Buffer): Promise<BenchRow[]> {
  const path = join(dir, 'dns.log');
  writeFileSync(path, input);
  const ctx = {
    logger: createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
    dataDir: dir,
  };
  const src = fileSource.create(fileSource.config.parse({ type: 'file', paths: [path] }), ctx);
  const started = performance.now();
  let lines = 0;
  let bytes = 0;
  for await (const batch of src.batches()) {
    lines += batch.records.length;
    for (const r of batch.records) bytes += r.byteLength + 1;
    await batch.ack(); // the checkpoint (fsync + rename) follows in the background, coalesced
    if (bytes >= input.length) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await src.stop();
  return rate(
    'sources',
    'file source (read, frame, ack, checkpoint)',
    lines,
    bytes,
    seconds,
    'WRCCDC zeek-tsv lines, 256 KiB chunks',
  );
}

function framerRun(input: Buffer): BenchRow[] {
  const framer = new LineFramer(1 << 20);
  const out: FramedLine[] = [];
  let lines = 0;
  const started = performance.now();
  for (let i = 0; i < input.length; i += 65_536) {
    framer.push(input.subarray(i, i + 65_536), out);
    lines += out.length;
    out.length = 0;
  }
  return rate(
    'sources',
    'line framer (in memory)',
    lines,
    input.length,
    (performance.now() - started) / 1000,
    '64 KiB chunks',
  );
}

function octetRun(input: Buffer): BenchRow[] {
  // The same lines, octet-counted as RFC 6587 senders frame them.
  const text = input.toString('utf8', 0, Math.min(input.length, 16 << 20));
  const framed = Buffer.from(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => `${Buffer.byteLength(l)} ${l}`)
      .join(''),
  );
  const framer = new SyslogTcpFramer(65_536);
  const out: SyslogMessage[] = [];
  let messages = 0;
  const started = performance.now();
  for (let i = 0; i < framed.length; i += 65_536) {
    framer.push(framed.subarray(i, i + 65_536), out);
    messages += out.length;
    out.length = 0;
  }
  return rate(
    'sources',
    'syslog TCP octet-counted framer',
    messages,
    framed.length,
    (performance.now() - started) / 1000,
    '64 KiB chunks',
  );
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-bench-sources-'));
  try {
    const input = corpus();
    return [...(await fileSourceRun(dir, input)), ...framerRun(input), ...octetRun(input)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.table(await run());
