import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const SHUTDOWN = new URL('../../src/core/shutdown.ts', import.meta.url).href;
const LOGGER = new URL('../../src/core/logger.ts', import.meta.url).href;

/** A child that registers onShutdown with steps that log and take `stepMs` each. */
function child(
  stepMs: number,
  timeoutMs: number,
): { proc: ChildProcess; out: () => string; err: () => string } {
  const code = `
    import { onShutdown } from ${JSON.stringify(SHUTDOWN)};
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger({ pretty: false, level: 'info' });
    const step = (name) => ({ name, run: async () => { process.stdout.write(name + '\\n'); await new Promise((r) => setTimeout(r, ${stepMs})); } });
    onShutdown([step('stop-intake'), step('drain'), step('flush'), step('commit')], { logger, timeoutMs: ${timeoutMs} });
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  return { proc, out: () => out, err: () => err };
}

async function ready(c: ReturnType<typeof child>): Promise<void> {
  while (!c.out().includes('ready')) await once(c.proc.stdout!, 'data');
}

test('SIGTERM runs stop intake, drain, flush, commit in order and exits 0', async () => {
  const c = child(20, 5000);
  await ready(c);
  c.proc.kill('SIGTERM');
  const [code] = await once(c.proc, 'exit');
  assert.equal(code, 0, c.err());
  assert.equal(c.out(), 'ready\nstop-intake\ndrain\nflush\ncommit\n');
  assert.match(c.err(), /"msg":"shutdown complete"/);
});

test('steps that outlast the bound exit 1 with SOC_SHUTDOWN_TIMEOUT', async () => {
  const c = child(60_000, 300);
  await ready(c);
  c.proc.kill('SIGINT');
  const [code] = await once(c.proc, 'exit');
  assert.equal(code, 1);
  assert.equal(c.out(), 'ready\nstop-intake\n');
  assert.match(c.err(), /SOC_SHUTDOWN_TIMEOUT/);
});

test('a second signal forces the exit at once (128 + signal)', async () => {
  const c = child(60_000, 60_000);
  await ready(c);
  c.proc.kill('SIGINT');
  while (!c.out().includes('stop-intake')) await once(c.proc.stdout!, 'data');
  c.proc.kill('SIGINT');
  const [code] = await once(c.proc, 'exit');
  assert.equal(code, 130);
  assert.match(c.err(), /second signal: forcing exit/);
});
