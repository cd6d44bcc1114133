/**
 * Parser throughput on real data: lines/s and MB/s per format, parsing in memory (no I/O) with
 * one parser instance per pass, plus the whole `parse` path (read file, frame lines, parse, ids,
 * envelopes) for Zeek TSV. Run alone: `node bench/parsers.bench.ts`.
 *
 * Inputs (../shared/data unless noted): zeek-tsv conn = the zeek btest conn3 rows with the
 * placeholder ts replaced; zeek-tsv and zeek-json = WRCCDC 2018 dns+ssl+weird+rdp,
 * suricata-eve and json = surevego eve.json, sshd = every auth/ file, nginx = elastic-examples
 * apache_logs_combined_sample.log; auth-json, app-json, threat-json = the golden fixtures (no real
 * corpus exists; see test/fixtures/parsers/SOURCES.md). Lines are repeated to ~MIN_BYTES.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputRecord } from '../src/core/envelope.ts';
import { createNormalizer } from '../src/normalize/normalize.ts';
import { parserFor } from '../src/parsers/registry.ts';
import { createProcessor } from '../src/pipeline/processor.ts';
import { fileInput, processInput, ReadStats } from '../src/pipeline/read-input.ts';
import type { BenchRow } from './types.ts';

const DATA = new URL('../../shared/data/', import.meta.url).pathname;
const FIXTURES = new URL('../test/fixtures/parsers/', import.meta.url).pathname;
// `socstream bench --quick` (SOCSTREAM_BENCH_QUICK=1): smaller corpus, one timed round.
const QUICK = process.env.SOCSTREAM_BENCH_QUICK === '1';
const MIN_BYTES = QUICK ? 1 << 20 : 8 << 20;
const MIN_SECONDS = QUICK ? 0.1 : 0.3;
const ROUNDS = QUICK ? 1 : 3;

function linesOf(paths: string[]): string[] {
  return paths.flatMap((p) =>
    readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const WRCCDC = ['dns', 'ssl', 'weird', 'rdp'];
const CONN3 = `${DATA}zeek-tsv/zeek-btest-logging-edgecases/policy.conn.mac-logging__conn3.log`;
const INPUTS: Array<{ format: string; files: () => string[]; note: string; lines?: () => string[] }> = [
  {
    format: 'zeek-tsv',
    files: () => [CONN3],
    // The only real conn rows we have (zeek btest) carry the placeholder ts; put a real one in.
    lines: () => linesOf([CONN3]).map((l) => l.replace(/^XXXXXXXXXX\.XXXXXX\t/, '1521911720.865716\t')),
    note: 'conn: zeek btest conn3 rows (1333, 24 columns), placeholder ts replaced by an epoch',
  },
  {
    format: 'zeek-tsv',
    files: () => WRCCDC.map((l) => `${DATA}zeek-tsv/wrccdc2018-zeek6.2/${l}.log`),
    note: 'WRCCDC dns+ssl+weird+rdp',
  },
  {
    format: 'zeek-json',
    files: () => WRCCDC.map((l) => `${DATA}zeek-json/wrccdc2018-zeek6.2/${l}.json`),
    note: 'WRCCDC dns+ssl+weird+rdp',
  },
  { format: 'suricata-eve', files: () => [`${DATA}suricata/surevego/eve.json`], note: 'surevego eve.json' },
  { format: 'sshd', files: () => walk(`${DATA}auth`), note: 'all auth/ files' },
  {
    format: 'nginx',
    files: () => [`${DATA}nginx/elastic-examples/apache_logs_combined_sample.log`],
    note: 'combined, 2000 real lines',
  },
  {
    format: 'auth-json',
    files: () => [`${FIXTURES}auth-json/auth-events.in.log`],
    note: 'golden fixture lines',
  },
  { format: 'app-json', files: () => [`${FIXTURES}app-json/fastapi.in.log`], note: 'golden fixture lines' },
  { format: 'threat-json', files: () => [`${FIXTURES}threat-json/seed.in.log`], note: 'seed lines' },
  {
    format: 'json',
    files: () => [`${DATA}suricata/surevego/eve.json`],
    note: 'surevego eve.json as generic json',
  },
];

/**
 * Zeek TSV headers must precede rows: a repeated corpus keeps each file's header with its rows,
 * so repetition repeats whole files (a new header block mid-stream is part of the format).
 */
function corpus(lines: string[]): { lines: string[]; bytes: number } {
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const times = Math.max(1, Math.ceil(MIN_BYTES / bytes));
  const out: string[] = [];
  for (let i = 0; i < times; i++) for (const l of lines) out.push(l);
  return { lines: out, bytes: bytes * times };
}

/** One pass over the corpus with a fresh parser (state such as Zeek headers starts empty). */
function pass(format: string, records: readonly InputRecord[]): number {
  const parser = parserFor(format).create({ referenceTimeMs: Date.UTC(2026, 10, 23) });
  let accepted = 0;
  for (const r of records) {
    const v = parser.parse(r);
    if (v.ok) accepted += v.records.length;
  }
  return accepted;
}

/**
 * Warm-up (JIT) for MIN_SECONDS, then ROUNDS timed rounds of at least MIN_SECONDS each; the
 * median round is reported, so one descheduled round on a shared machine does not decide it.
 */
function measure(format: string, lines: string[]): { linesPerSecond: number; accepted: number } {
  const records: InputRecord[] = lines.map((text, i) => ({
    text,
    byteLength: text.length,
    position: { kind: 'stream', name: 'bench', sequence: i },
    receivedAt: 0,
  }));
  let accepted = 0;
  const rates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = process.hrtime.bigint();
    let passes = 0;
    let seconds = 0;
    do {
      accepted = pass(format, records);
      passes++;
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
    } while (seconds < MIN_SECONDS);
    if (round > 0) rates.push((records.length * passes) / seconds); // round 0 is the warm-up
  }
  rates.sort((a, b) => a - b);
  return { linesPerSecond: rates[Math.floor(rates.length / 2)], accepted };
}

/** The whole parse path over a file; a warm-up pass, then the median of ROUNDS passes. */
async function endToEnd(): Promise<BenchRow[]> {
  const lines = linesOf(WRCCDC.map((l) => `${DATA}zeek-tsv/wrccdc2018-zeek6.2/${l}.log`));
  const { lines: big, bytes } = corpus(lines);
  const file = join(tmpdir(), `socstream-bench-${process.pid}.log`);
  writeFileSync(file, `${big.join('\n')}\n`);
  const rates: number[] = [];
  let envelopes = 0;
  const processor = createProcessor({ normalizer: createNormalizer() });
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      envelopes = 0;
      const start = process.hrtime.bigint();
      const input = fileInput(file, 'zeek-tsv');
      for await (const out of processInput(input.open(), input.spec, processor, new ReadStats()))
        envelopes += out.envelopes.length;
      if (round > 0) rates.push(envelopes / (Number(process.hrtime.bigint() - start) / 1e9));
    }
  } finally {
    rmSync(file, { force: true });
  }
  rates.sort((a, b) => a - b);
  return [
    {
      bench: 'parse',
      metric: 'zeek-tsv parse path (read, frame, parse, ids, envelopes) events/s',
      value: Math.round(rates[Math.floor(rates.length / 2)]),
      unit: 'events/s',
      note: `${envelopes} events, ${(bytes / 1e6).toFixed(1)} MB, WRCCDC dns+ssl+weird+rdp; through src/pipeline/read-input.ts: framing, parse and normalize (no enrich), no output`,
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const input of INPUTS) {
    const { lines, bytes } = corpus(input.lines ? input.lines() : linesOf(input.files()));
    const { linesPerSecond, accepted } = measure(input.format, lines);
    const bytesPerLine = bytes / lines.length;
    rows.push({
      bench: 'parse',
      metric: `${input.format}${input.note.startsWith('conn') ? ' conn' : ''} lines/s`,
      value: Math.round(linesPerSecond),
      unit: 'lines/s',
      note: `${input.note}; ${accepted} of ${lines.length} lines accepted per pass`,
    });
    rows.push({
      bench: 'parse',
      metric: `${input.format}${input.note.startsWith('conn') ? ' conn' : ''} MB/s`,
      value: Math.round(((linesPerSecond * bytesPerLine) / 1e6) * 10) / 10,
      unit: 'MB/s',
    });
  }
  rows.push(...(await endToEnd()));
  return rows;
}

if (import.meta.main) {
  for (const row of await run()) {
    process.stdout.write(`${row.metric.padEnd(72)} ${String(row.value).padStart(10)} ${row.unit}\n`);
  }
}
