import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { COMMAND_LOADERS, loadCommands } from '../../src/cli/commands.ts';
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
