/**
 * bin/entry.js arenaLimitedExec: the launcher replaces itself (same pid, same stdout) with
 * MALLOC_ARENA_MAX=2 on Linux unless the variable is set (a set value is kept), and with the V8
 * heap flags (V8_MEMORY_FLAGS) the node command line does not set (a flag the user gave is kept).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { missingMemoryFlags, V8_MEMORY_FLAGS } from '../../bin/entry.js';

const ENTRY = new URL('../../bin/entry.js', import.meta.url).href;
const PROBE = `const { arenaLimitedExec } = await import(${JSON.stringify(ENTRY)});
arenaLimitedExec(process);
process.stdout.write(JSON.stringify({ pid: process.pid, arenas: process.env.MALLOC_ARENA_MAX ?? null, argv: process.argv.slice(2), execArgv: process.execArgv }));`;

// A script like bin/socstream.js (the node flags before it and the arguments after it survive).
const dir = mkdtempSync(join(tmpdir(), 'socstream-launcher-'));
const SCRIPT = join(dir, 'probe.mjs');
writeFileSync(SCRIPT, PROBE);
after(() => rmSync(dir, { recursive: true, force: true }));

function probe(env: Record<string, string | undefined>, nodeFlags: string[] = []) {
  const { MALLOC_ARENA_MAX: _, NODE_OPTIONS: __, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--no-warnings', ...nodeFlags, SCRIPT, 'run', '--role', 'process'], {
    env: { ...rest, ...env } as NodeJS.ProcessEnv,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return {
    ...(JSON.parse(r.stdout) as { pid: number; arenas: string | null; argv: string[]; execArgv: string[] }),
    childPid: r.pid,
  };
}

test('the launcher re-executes itself in place with MALLOC_ARENA_MAX=2 when the variable is unset', {
  skip: process.platform !== 'linux' ? 'Linux only' : false,
}, () => {
  const out = probe({});
  assert.equal(out.arenas, '2');
  assert.equal(out.pid, out.childPid, 'same process, not a child');
  assert.deepEqual(out.argv, ['run', '--role', 'process']);
});

test('a MALLOC_ARENA_MAX the user set is kept as it is', () => {
  assert.equal(probe({ MALLOC_ARENA_MAX: '8' }).arenas, '8');
});

const linuxOnly = { skip: process.platform !== 'linux' ? 'Linux only' : false };

test('the launcher adds the V8 heap flag (the semi-space cap) to its own node flags', linuxOnly, () => {
  const out = probe({});
  assert.deepEqual(V8_MEMORY_FLAGS, ['--max-semi-space-size=16']);
  for (const flag of V8_MEMORY_FLAGS) assert.ok(out.execArgv.includes(flag), `${flag} in ${out.execArgv}`);
  assert.ok(out.execArgv.includes('--no-warnings'), 'the flags given are kept');
  assert.deepEqual(out.argv, ['run', '--role', 'process']);
});

test('a V8 flag the user gave on the node command line wins over the default', linuxOnly, () => {
  const out = probe({}, ['--max-semi-space-size=32', '--heap-growing-percent=100']);
  assert.equal(out.arenas, '2');
  assert.ok(out.execArgv.includes('--max-semi-space-size=32'));
  assert.ok(!out.execArgv.includes('--max-semi-space-size=16'));
  assert.ok(out.execArgv.includes('--heap-growing-percent=100'), 'other node flags are kept');
  assert.equal(out.pid, out.childPid);
});

test(
  'with MALLOC_ARENA_MAX set, the launcher still restarts once to add a missing V8 flag',
  linuxOnly,
  () => {
    const out = probe({ MALLOC_ARENA_MAX: '8' });
    assert.equal(out.arenas, '8', 'the variable is kept');
    assert.ok(out.execArgv.includes('--max-semi-space-size=16'));
    assert.equal(out.pid, out.childPid);
  },
);

test('missingMemoryFlags: a flag set in execArgv or NODE_OPTIONS (either spelling) is not added again', () => {
  assert.deepEqual(missingMemoryFlags(['--max_semi_space_size=8'], ''), []);
  assert.deepEqual(missingMemoryFlags([], '--max-semi-space-size=4'), []);
  assert.deepEqual(missingMemoryFlags(['--inspect'], '--no-warnings'), V8_MEMORY_FLAGS);
});
