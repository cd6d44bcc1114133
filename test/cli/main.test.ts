import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function exitCode(...args: string[]): number | null {
  return spawnSync(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'ignore'] }).status;
}

test('a command group without its subcommand is bad usage (exit 2); asking for help is not', () => {
  for (const group of ['rules', 'topics', 'lake']) {
    assert.equal(exitCode(group), 2, group);
    assert.equal(exitCode(group, '--help'), 0, `${group} --help`);
    assert.equal(exitCode('help', group), 0, `help ${group}`);
  }
});

test('no command at all is bad usage (exit 2); `help` is not', () => {
  assert.equal(exitCode(), 2);
  assert.equal(exitCode('help'), 0);
  assert.equal(exitCode('--version'), 0);
});

test('unknown commands and options are bad usage (exit 2)', () => {
  assert.equal(exitCode('no-such-command'), 2);
  assert.equal(exitCode('parse', '--no-such-flag'), 2);
});
