import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/** promtool comes with Debian's `prometheus` package (apt-get install -y prometheus). */
const DEPLOY = new URL('../../deploy/prometheus/', import.meta.url).pathname;
const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool'], { stdio: 'ignore' }).status === 0;
const SKIP = 'promtool not installed: apt-get install -y prometheus (SKIPPED, the rules are NOT checked)';

function promtool(...args: string[]) {
  return spawnSync('promtool', args, { cwd: DEPLOY, encoding: 'utf8' });
}

test('promtool check rules accepts deploy/prometheus/rules.yml', (t) => {
  if (!hasPromtool) return t.skip(SKIP);
  const r = promtool('check', 'rules', 'rules.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: \d+ rules found/);
});

test('promtool check config accepts deploy/prometheus/prometheus.yml and its rule file', (t) => {
  if (!hasPromtool) return t.skip(SKIP);
  const r = promtool('check', 'config', 'prometheus.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 1 rule files found/);
});

test('promtool test rules: the alert unit tests pass (brute force, broker down, latency, DLQ, role down)', (t) => {
  if (!hasPromtool) return t.skip(SKIP);
  const r = promtool('test', 'rules', 'rules.test.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('promtool rejects a broken rule (the check can fail)', (t) => {
  if (!hasPromtool) return t.skip(SKIP);
  const r = spawnSync('promtool', ['check', 'rules'], {
    input: 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(\n',
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
});
