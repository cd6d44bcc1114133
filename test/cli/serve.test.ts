import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { needsGeneratedToken, parsePort, serveConfig } from '../../src/cli/serve.ts';
import { validateConfig } from '../../src/config/loader.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'socstream-serve-cli-'));
let child: ChildProcess | undefined;
after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test('--lake, --port and --host override the config', () => {
  const config = validateConfig({ serve: { port: 9000, host: '0.0.0.0' } }, 'test');
  const out = serveConfig(config, { lake: 'some/lake', port: '0', host: '127.0.0.1' });
  assert.equal(out.lake.dir, resolve('some/lake'));
  assert.equal(out.serve.port, 0);
  assert.equal(out.serve.host, '127.0.0.1');
  assert.deepEqual(serveConfig(config, {}).serve, config.serve);
  assert.throws(() => parsePort('70000'), /--port: not a port/);
  assert.throws(() => parsePort('http'), /--port: not a port/);
});

test('a token is generated only when neither the config nor the environment has one', () => {
  const none = validateConfig({}, 'test');
  assert.equal(needsGeneratedToken(none, {}), true);
  assert.equal(needsGeneratedToken(none, { SOCSTREAM_TOKEN_DANA: `viewer:${'x'.repeat(20)}` }), false);
  const configured = validateConfig(
    { serve: { tokens: [{ name: 'a', role: 'admin', token: 'y'.repeat(20) }] } },
    'test',
  );
  assert.equal(needsGeneratedToken(configured, {}), false);
});

test('socstream serve without tokens prints a warning with a generated admin token that works', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, SOCSTREAM_DATA_DIR: dir, SOCSTREAM_LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env))
    if (k.startsWith('SOCSTREAM_TOKEN_') || k === 'SOCSTREAM_DEMO_TOKEN') delete env[k];
  child = spawn(
    process.execPath,
    [join(ROOT, 'src/cli/main.ts'), 'serve', '--lake', join(dir, 'lake'), '--port', '0'],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const ready = await new Promise<{ token: string; url: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start:\n${stderr}`)), 60_000);
    child?.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const token = /generated an admin token for this run only: (\S+)/.exec(stderr)?.[1];
      const url = /socstream serve: (http:\/\/\S+?)\/\s/.exec(stderr)?.[1];
      if (token && url) {
        clearTimeout(timer);
        ok({ token, url });
      }
    });
    child?.once('exit', (code) => fail(new Error(`serve exited ${code}:\n${stderr}`)));
  });
  assert.match(stderr, /WARNING: no API token configured/);
  const me = await fetch(`${ready.url}/api/me`, { headers: { authorization: `Bearer ${ready.token}` } });
  assert.deepEqual(await me.json(), { name: 'generated', role: 'admin' });
  assert.equal((await fetch(`${ready.url}/api/me`)).status, 401);
  const events = await fetch(`${ready.url}/api/events`, {
    headers: { authorization: `Bearer ${ready.token}` },
  });
  assert.deepEqual(await events.json(), { events: [], next_cursor: null }, 'an empty lake answers no events');
  const exited = new Promise<number | null>((r) => child?.once('exit', r));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
