import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { action } from './run-action.ts';

/**
 * `socstream bench`: runs every bench/<name>.bench.ts (each exports `run(): Promise<BenchRow[]>`)
 * in its own child process — so one module's memory and CPU don't skew the next, and a module
 * that overruns its time budget is killed, not waited for — then prints a Markdown table and
 * writes bench/results.json with the machine it ran on. `--quick` sets SOCSTREAM_BENCH_QUICK=1
 * for modules to shrink their inputs; `--big` sets SOCSTREAM_BENCH_BIG=1 for the modules whose
 * goals are about scale (a week-long lake, a multi-million-row hour: minutes each). A row whose value is NaN was skipped (its note says why).
 */
const BENCH_DIR = new URL('../../bench/', import.meta.url);

/** One line of the benchmark table. Each bench/<area>.bench.ts exports `run(): Promise<BenchRow[]>`. */
export interface BenchRow {
  /** Group, e.g. "parse", "engine", "lake", "e2e". */
  bench: string;
  /** What was measured, e.g. "zeek-tsv dns lines/s". */
  metric: string;
  value: number;
  unit: string;
  /** Target for this metric, if the issue sets one, with how to compare. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}

const CHILD_FLAG = '--bench-child';

export interface ModuleResult {
  name: string;
  ms: number;
  status: 'ok' | 'failed' | 'timeout';
  error?: string;
  rows: BenchRow[];
}

export function discoverModules(only?: string): string[] {
  const all = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  if (only === undefined) return all;
  const wanted = only.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length) throw new UsageError(`no bench module ${unknown.join(', ')}; have: ${all.join(', ')}`);
  return all.filter((m) => wanted.includes(m));
}

/** pass / miss against the row's target; '—' without a target or when skipped. */
export function verdict(row: BenchRow): string {
  if (Number.isNaN(row.value)) return 'skipped';
  if (!row.target) return '—';
  const ok = row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value;
  return ok ? 'pass' : 'miss';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = [
    '| bench | metric | value | unit | target | result | note |',
    '|---|---|---:|---|---|---|---|',
  ];
  for (const r of rows) {
    const target = r.target ? `${r.target.op} ${formatValue(r.target.value)}` : '';
    const note = (r.note ?? '').replaceAll('|', '\\|');
    lines.push(
      `| ${r.bench} | ${r.metric} | ${formatValue(r.value)} | ${r.unit} | ${target} | ${verdict(r)} | ${note} |`,
    );
  }
  return lines.join('\n');
}

export function machineInfo() {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpu_model: cpu[0]?.model ?? 'unknown',
    memory_bytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Runs one module in a child process; rows come back as JSON on the child's stdout. */
function runModule(name: string, timeoutMs: number, quick: boolean, big = false): Promise<ModuleResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), CHILD_FLAG, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        ...(quick ? { SOCSTREAM_BENCH_QUICK: '1' } : {}),
        ...(big ? { SOCSTREAM_BENCH_BIG: '1' } : {}),
      },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      if (timedOut)
        return resolve({ name, ms, status: 'timeout', error: `killed after ${timeoutMs} ms`, rows: [] });
      const marker = out.lastIndexOf('\n@@bench-rows@@');
      if (code !== 0 || marker < 0)
        return resolve({ name, ms, status: 'failed', error: `exit ${code}`, rows: [] });
      const rows = JSON.parse(out.slice(marker + '\n@@bench-rows@@'.length), (_k, v) =>
        v === null ? Number.NaN : v,
      );
      resolve({ name, ms, status: 'ok', rows });
    });
  });
}

interface BenchFlags {
  only?: string;
  quick?: boolean;
  big?: boolean;
  timeout: string;
  budget: string;
  out: string;
}

export async function benchCommand(flags: BenchFlags): Promise<number> {
  const modules = discoverModules(flags.only);
  const timeoutMs = Number(flags.timeout) * 1000;
  const budgetMs = Number(flags.budget) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  if (!(budgetMs > 0)) throw new UsageError('--budget must be a positive number of seconds');
  const started = performance.now();
  const results: ModuleResult[] = [];
  for (const name of modules) {
    // The whole run stays within the budget (issue 8: under 10 minutes): a module gets at most
    // what is left, and none is started with less than 5 s.
    const leftMs = budgetMs - (performance.now() - started);
    if (leftMs < 5000) {
      results.push({
        name,
        ms: 0,
        status: 'timeout',
        error: 'not run: the time budget was used up',
        rows: [],
      });
      continue;
    }
    process.stderr.write(`bench: ${name} …\n`);
    const r = await runModule(name, Math.min(timeoutMs, leftMs), flags.quick === true, flags.big === true);
    process.stderr.write(
      `bench: ${name} ${r.status} in ${(r.ms / 1000).toFixed(1)} s${r.error ? ` (${r.error})` : ''}\n`,
    );
    results.push(r);
  }
  const rows = results.flatMap((r) =>
    r.status === 'ok'
      ? r.rows
      : [{ bench: r.name, metric: 'module', value: Number.NaN, unit: '', note: `${r.status}: ${r.error}` }],
  );
  const machine = machineInfo();
  const totalMs = Math.round(performance.now() - started);
  process.stdout.write(
    `${markdownTable(rows)}\n\n${machine.cpus} × ${machine.cpu_model}, ${(machine.memory_bytes / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}; ${(totalMs / 1000).toFixed(0)} s${flags.quick ? ' (quick)' : ''}${flags.big ? ' (big)' : ''}\n`,
  );
  const results_json = {
    date: new Date().toISOString(),
    quick: flags.quick === true,
    big: flags.big === true,
    machine,
    duration_ms: totalMs,
    modules: results.map(({ rows: _rows, ...m }) => m),
    rows: rows.map((r) => ({ ...r, result: verdict(r) })),
  };
  writeFileSync(flags.out, `${JSON.stringify(results_json, null, 2)}\n`);
  return results.every((r) => r.status === 'ok') ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(
      'Run bench/*.bench.ts: throughput, latency and memory against targets; Markdown table + bench/results.json',
    )
    .option('--only <names>', 'only these modules (comma-separated, e.g. parsers,kafka)')
    .option('--quick', 'smaller inputs (SOCSTREAM_BENCH_QUICK=1)')
    .option(
      '--big',
      'scale inputs (SOCSTREAM_BENCH_BIG=1): a 50 M-event week lake, a 3 M-row hour; use with --only week,compact, a long --timeout/--budget and --out',
    )
    .option('--timeout <s>', 'time budget per module, seconds; an overrunning module is killed', '240')
    .option('--budget <s>', 'time budget for the whole run, seconds', '570')
    .option('--out <path>', 'results file', fileURLToPath(new URL('results.json', BENCH_DIR)))
    .action(action((flags: BenchFlags) => benchCommand(flags)));
}

/** Child side: import one module, run it, print its rows after a marker (modules may log to stdout). */
async function child(name: string): Promise<void> {
  const mod = (await import(pathToFileURL(fileURLToPath(new URL(`${name}.bench.ts`, BENCH_DIR))).href)) as {
    run(): Promise<BenchRow[]>;
  };
  const rows = await mod.run();
  process.stdout.write(`\n@@bench-rows@@${JSON.stringify(rows)}`);
  process.exit(0);
}

if (import.meta.main && process.argv[2] === CHILD_FLAG) await child(basename(process.argv[3]));
