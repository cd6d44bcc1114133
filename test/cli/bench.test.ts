import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConsumerPerf, parseProducerPerf } from '../../bench/kafka.bench.ts';
import { discoverModules, markdownTable, verdict } from '../../src/cli/bench.ts';

const tmp = mkdtempSync(join(tmpdir(), 'socstream-bench-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('verdict compares a row with its target; NaN rows are skipped', () => {
  const row = { bench: 'engine', metric: 'zeek conn events/s', unit: 'events/s' };
  assert.equal(verdict({ ...row, value: 300_000, target: { op: '>=', value: 250_000 } }), 'pass');
  assert.equal(verdict({ ...row, value: 200_000, target: { op: '>=', value: 250_000 } }), 'miss');
  assert.equal(verdict({ ...row, value: 600, target: { op: '<=', value: 500 } }), 'miss');
  assert.equal(verdict({ ...row, value: 1 }), '—');
  assert.equal(verdict({ ...row, value: Number.NaN, note: 'skipped: no broker' }), 'skipped');
});

test('the Markdown table has one line per row with value, unit, target and result', () => {
  const table = markdownTable([
    {
      bench: 'e2e',
      metric: 'latency p99',
      value: 0.4321,
      unit: 's',
      target: { op: '<=', value: 0.5 },
      note: 'a | b',
    },
    { bench: 'kafka', metric: 'ProducerPerformance', value: 123456.7, unit: 'records/s' },
  ]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[2], '| e2e | latency p99 | 0.432 | s | <= 0.5 | pass | a \\| b |');
  assert.equal(lines[3], '| kafka | ProducerPerformance | 123,457 | records/s |  | — |  |');
});

test('modules are discovered from bench/*.bench.ts and --only rejects unknown names', () => {
  const all = discoverModules();
  assert.ok(all.includes('kafka') && all.includes('generate'));
  assert.deepEqual(discoverModules('generate'), ['generate']);
  assert.throws(() => discoverModules('nope'), /no bench module nope/);
});

test('Kafka ProducerPerformance and ConsumerPerformance output is parsed (Kafka 4.1 tool output)', () => {
  const prod = parseProducerPerf(
    '[2026-11-23 05:14:07,944] WARN [Producer clientId=perf-producer-client] …\n' +
      '2000 records sent, 1491.4 records/sec (0.14 MB/sec), 147.93 ms avg latency, 1193.00 ms max latency, 147 ms 50th, 199 ms 95th, 222 ms 99th, 222 ms 99.9th.\n',
  );
  assert.deepEqual(prod, { records: 2000, perSec: 1491.4, mbPerSec: 0.14, p99Ms: 222 });
  const cons = parseConsumerPerf(
    'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n' +
      '2026-11-23 05:14:13:212, 2026-11-23 05:14:15:197, 0.1907, 0.0961, 2000, 1007.5567, 1653, 332, 0.5745, 6024.0964\n',
  );
  assert.equal(cons['fetch.nMsg.sec'], '6024.0964');
  assert.equal(cons['data.consumed.in.nMsg'], '2000');
  assert.throws(() => parseProducerPerf('nothing here'), /unrecognized/);
});

test('socstream bench --only generate --quick prints the table and writes results.json with machine info', () => {
  const out = join(tmp, 'results.json');
  const r = spawnSync(
    process.execPath,
    [
      new URL('../../src/cli/main.ts', import.meta.url).pathname,
      'bench',
      '--only',
      'generate',
      '--quick',
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\| bench \| metric \| value \| unit \| target \| result \| note \|/);
  assert.match(r.stdout, /\| generate \| mixed \(Zeek json\) lines\/s \| [\d,]+ \| lines\/s \|/);
  const results = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(results.quick, true);
  assert.ok(results.machine.cpus >= 1 && results.machine.memory_bytes > 0);
  assert.match(results.machine.node, /^v\d+/);
  assert.equal(results.modules[0].status, 'ok');
  assert.ok(results.rows.length >= 2);
});

test('a module left without time in the --budget is reported as not run, and the run fails', () => {
  const r = spawnSync(
    process.execPath,
    [
      new URL('../../src/cli/main.ts', import.meta.url).pathname,
      'bench',
      '--only',
      'generate',
      '--budget',
      '3',
      '--out',
      join(tmp, 'b.json'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\| generate \| module \| — \|.*not run: the time budget was used up/);
});
