/**
 * The file-source reliability test: append, rename, truncate, and SIGKILL the reading
 * process in between. After the restarts every line was delivered, and a line delivered twice
 * carries the same id both times (the checkpoint only moves after the writer's fsync + ack).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureLines, tempDir } from './helpers.ts';

const sshd = fixtureLines('sshd.log');
const child = new URL('./file-crash-child.ts', import.meta.url).pathname;

/** Line n: a real sshd line with a unique suffix. */
const line = (n: number) => `${sshd[n % sshd.length]} seq=${n}`;
const lines = (from: number, to: number) => {
  let s = '';
  for (let n = from; n < to; n++) s += `${line(n)}\n`;
  return s;
};

/**
 * What the child durably wrote. The child may be mid-write while we read (or was killed in one):
 * an unterminated last line is not a delivery yet — it was not acked, so it comes again.
 */
function delivered(output: string): Array<{ id: string; text: string }> {
  if (!existsSync(output)) return [];
  const lines = readFileSync(output, 'utf8').split('\n');
  lines.pop(); // after the last LF: empty, or a line still being written
  const out: Array<{ id: string; text: string }> = [];
  for (const l of lines) {
    try {
      out.push(JSON.parse(l));
    } catch {
      // a write torn by SIGKILL: unacked, so re-delivered on the next run
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

test('file source survives append, rename, truncate and SIGKILL without losing a line', async (t) => {
  const dir = tempDir('socstream-crash-');
  const input = join(dir, 'app.log');
  const output = join(dir, 'out.ndjson');
  const dataDir = join(dir, 'data');
  let proc: ChildProcess | null = null;
  t.after(() => proc?.kill('SIGKILL'));
  const start = () => {
    proc = spawn(process.execPath, [child, input, dataDir, output], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  };
  const kill = async () => {
    const p = proc;
    if (!p) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    proc = null;
  };
  const count = () => delivered(output).length;
  const texts = () => new Set(delivered(output).map((d) => d.text));
  let kills = 0;

  // 1. A first burst, killed part-way through.
  writeFileSync(input, lines(0, 1500));
  start();
  await waitFor(() => count() > 200);
  await kill();
  kills++;
  assert.ok(texts().size < 1500, 'killed before the end, so the restart has work to do');

  // 2. Appends while stopped and while running, killed again.
  appendFileSync(input, lines(1500, 2000));
  start();
  appendFileSync(input, lines(2000, 2500));
  await waitFor(() => count() > texts().size || texts().size > 1600);
  await kill();
  kills++;

  // 3. Rotation by rename while stopped, with a late write to the old file: killed mid-rotation.
  appendFileSync(input, lines(2500, 2800));
  renameSync(input, `${input}.1`);
  appendFileSync(`${input}.1`, lines(2800, 3000));
  writeFileSync(input, lines(3000, 3500));
  start();
  await waitFor(() => texts().has(line(3000)) || texts().has(line(2999)));
  await kill();
  kills++;

  // 4. Running until everything so far is in, then truncation (copytruncate) while running.
  start();
  await waitFor(() => texts().size >= 3500);
  truncateSync(input, 0);
  await sleep(150);
  appendFileSync(input, lines(3500, 4500));
  await waitFor(() => texts().has(line(3600)));
  await kill();
  kills++;

  // 5. More appends while stopped; the last run delivers the rest.
  appendFileSync(input, lines(4500, 5000));
  start();
  await waitFor(() => texts().size >= 5000, 30_000);
  await kill();

  const all = delivered(output);
  const idByText = new Map<string, string>();
  let duplicates = 0;
  for (const d of all) {
    const seen = idByText.get(d.text);
    if (seen !== undefined) {
      duplicates++;
      assert.equal(d.id, seen, `re-delivered line changed id: ${d.text}`);
    } else idByText.set(d.text, d.id);
  }
  for (let n = 0; n < 5000; n++) assert.ok(idByText.has(line(n)), `line ${n} never delivered`);
  assert.equal(new Set(idByText.values()).size, 5000, 'distinct lines have distinct ids');
  t.diagnostic(
    `${all.length} deliveries for 5000 lines after ${kills} SIGKILLs (${duplicates} re-deliveries)`,
  );
});
