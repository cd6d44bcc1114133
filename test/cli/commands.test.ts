import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { COMMAND_LOADERS, COMMAND_SUMMARIES, loadCommands } from '../../src/cli/commands.ts';
import { buildProgram } from '../../src/cli/main.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

test('a command loads only its own module; help and unknown names load every command', async () => {
  assert.equal((await loadCommands('rules')).length, 1);
  const all = Object.keys(COMMAND_LOADERS).length;
  assert.equal((await loadCommands()).length, all);
  assert.equal((await loadCommands('toString')).length, all);
  assert.equal((await loadCommands('--help')).length, all);
  const one = await buildProgram('detect');
  assert.deepEqual(
    one.commands.map((c) => c.name()),
    ['detect'],
  );
  const every = await buildProgram();
  assert.deepEqual(every.commands.map((c) => c.name()).sort(), Object.keys(COMMAND_LOADERS).sort());
});

test('`socstream detect --help` and `socstream help hunt` still print their options', () => {
  const d = spawnSync(process.execPath, [MAIN, 'detect', '--help'], { encoding: 'utf8' });
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /--logsource <spec>/);
  const h = spawnSync(process.execPath, [MAIN, 'help', 'hunt'], { encoding: 'utf8' });
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /--since <duration>/);
});

test('the top-level help from the summaries alone reads exactly as the help of the loaded commands', async () => {
  assert.deepEqual(Object.keys(COMMAND_SUMMARIES).sort(), Object.keys(COMMAND_LOADERS).sort());
  const loaded = await buildProgram();
  const listed = await buildProgram(undefined, { listOnly: true });
  assert.equal(listed.helpInformation(), loaded.helpInformation());
  const r = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /query \[options\] <sql>\s+SQL over the Parquet lake/);
  const bare = spawnSync(process.execPath, [MAIN, 'help'], { encoding: 'utf8' });
  assert.equal(bare.status, 0, bare.stderr);
  assert.equal(bare.stdout, r.stdout);
  const v = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
});
