import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LakeQuery } from '../../src/lake/query.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
// Real sshd lines (brute force from one source): crowdsecurity/hub, see test/fixtures/SOURCES.md.
const AUTH_LOG = `${SHARED_DATA}/auth/crowdsec-hub/ssh-bf__ssh-bf.log`;

function socstream(args: string[], input?: string) {
  return spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 120_000 });
}

test('run: an unknown key exits 2 naming the file, the key path and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-run-'));
  const file = join(dir, 'socstream.yaml');
  writeFileSync(file, 'lake:\n  flush_evnt_count: 10\n');
  const r = socstream(['run', '--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}: lake: .*flush_evnt_count.*Fix: remove "flush_evnt_count"`));
});

test('run: a wrong type exits 2 with what was expected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-run-'));
  const file = join(dir, 'socstream.yaml');
  writeFileSync(file, 'serve:\n  port: eighty\n');
  const r = socstream(['run', '--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /serve\.port: .*expected number.*Fix: set it to a number/);
});

test('run: an unknown role is a usage error (exit 2)', () => {
  const r = socstream(['run', '--config', '/dev/null', '--role', 'nope']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown role "nope"/);
});

test('run: stdin through every role lands in the lake and alerts, then exits 0 when input ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-run-'));
  const file = join(dir, 'socstream.yaml');
  writeFileSync(
    file,
    [
      `data_dir: ${dir}`,
      'sources: [{ type: stdin, format: sshd }]',
      `lake: { dir: ${dir}/lake, flush_interval_seconds: 1 }`,
      `alert_store: { sqlite_path: ${dir}/alerts.db }`,
      `dlq: { path: ${dir}/dlq.ndjson }`,
      'alerts: { console: true }',
      'serve: { port: 0 }',
      'log_level: warn',
    ].join('\n'),
  );
  const input = readFileSync(AUTH_LOG, 'utf8');
  const lines = input.split('\n').filter(Boolean).length;
  const r = socstream(['run', '--config', file, '--role', 'ingest,process,correlate,store'], input);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[ALERT\] Source: 35\.188\.49\.176 \| Threat: .* \| Severity: HIGH/);
  const lake = await LakeQuery.open({ lakeDir: join(dir, 'lake') });
  const result = await lake.query('SELECT count(DISTINCT id) FROM events');
  lake.close();
  assert.equal(Number(result.rows[0][0]), lines);
});
