import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'socstream-generate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function generate(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'generate', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

test('socstream generate is byte-reproducible with --seed and --start', () => {
  const args = ['--scenario', 'mixed', '--count', '3000', '--seed', '7', '--start', '2026-01-31T10:00:00Z'];
  const a = generate(...args);
  const b = generate(...args);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout.split('\n').length, 3001);
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, generate(...args.slice(0, -3), '8', '--start', '2026-01-31T10:00:00Z').stdout);
  assert.match(a.stderr, /generate: 3,000 events in .* events\/s achieved/);
});

test('--rate R --duration S writes R×S lines whose event times advance at R per second', () => {
  const r = generate(
    '--scenario',
    'normal',
    '--rate',
    '400',
    '--duration',
    '1',
    '--start',
    '2026-01-31T10:00:00Z',
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 400);
  assert.match(r.stderr, /target 400\/s/);
  // The last line's event time is 997 ms after the start (399 × 2.5 ms): event time follows the rate.
  const last = lines.at(-1)!;
  assert.match(last, /2026-01-31T10:00:00\.99|31\/Jan\/2026:10:00:00|Jan 31 10:00:00/);
});

test('--to file:DIR writes one file per log, Zeek TSV with header and #close, and --truth NDJSON', () => {
  const dir = join(tmp, 'logs');
  const truthPath = join(tmp, 'truth.ndjson');
  const r = generate(
    '--scenario',
    'portscan',
    '--count',
    '5000',
    '--zeek',
    'tsv',
    '--to',
    `file:${dir}`,
    '--truth',
    truthPath,
    '--start',
    '2026-01-31T10:00:00Z',
  );
  assert.equal(r.status, 0, r.stderr);
  const conn = readFileSync(join(dir, 'conn.log'), 'utf8').trimEnd().split('\n');
  assert.equal(conn[0], '#separator \\x09');
  assert.match(conn[6], /^#fields\tts\tuid\tid\.orig_h/);
  assert.match(conn.at(-1)!, /^#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  assert.ok(readFileSync(join(dir, 'eve.json'), 'utf8').includes('ET SCAN NMAP'));
  const truth = readFileSync(truthPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(truth.length >= 1);
  assert.equal(truth[0].scenario, 'portscan');
  assert.match(truth[0].attacker.src_ip, /^10\.66\.1\./);
});

test('bad usage exits 2 with a message', () => {
  const r = generate('--scenario', 'nope');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown scenario "nope"/);
  assert.equal(generate('--scenario', 'normal', '--zeek', 'tsv').status, 2);
  assert.equal(generate('--scenario', 'normal', '--duration', '3').status, 2);
});

test('a reader that goes away (generate | head) ends the run quietly with exit 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [MAIN, 'generate', '--scenario', 'mixed', '--count', '2000000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.stdout.destroy();
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|unexpected failure/);
  assert.match(stderr, /generate: [\d,]+ events in/);
});
