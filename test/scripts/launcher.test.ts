/**
 * bin/entry.js arenaLimitedExec: the launcher replaces itself (same pid, same stdout) with
 * MALLOC_ARENA_MAX=2 on Linux unless the variable is set; a set value is kept.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ENTRY = new URL('../../bin/entry.js', import.meta.url).href;
const PROBE = `const { arenaLimitedExec } = await import(${JSON.stringify(ENTRY)});
arenaLimitedExec(process);
process.stdout.write(JSON.stringify({ pid: process.pid, arenas: process.env.MALLOC_ARENA_MAX ?? null, argv: process.argv.slice(2) }));`;

// A script like bin/socstream.js (the node flags before it and the arguments after it survive).
const dir = mkdtempSync(join(tmpdir(), 'socstream-launcher-'));
const SCRIPT = join(dir, 'probe.mjs');
writeFileSync(SCRIPT, PROBE);
after(() => rmSync(dir, { recursive: true, force: true }));

function probe(env: Record<string, string | undefined>) {
  const { MALLOC_ARENA_MAX: _, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--no-warnings', SCRIPT, 'run', '--role', 'process'], {
    env: { ...rest, ...env } as NodeJS.ProcessEnv,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return {
    ...(JSON.parse(r.stdout) as { pid: number; arenas: string | null; argv: string[] }),
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
