/**
 * The safeguards of `npm test` (scripts/test.ts) against lost verdicts: the verdict reporter
 * (scripts/test-verdicts.ts) and the linger watchdog (scripts/test-watchdog.ts), on real runs of
 * Node's test runner over small test files written here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { missingVerdicts, type VerdictReport } from '../../scripts/test-verdicts.ts';

const REPORTER = pathToFileURL(join(import.meta.dirname, '../../scripts/test-verdicts.ts')).href;
const WATCHDOG = pathToFileURL(join(import.meta.dirname, '../../scripts/test-watchdog.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'socstream-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runFiles(files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const paths = Object.entries(files).map(([name, body]) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  });
  const out = join(dir, `verdicts-${Object.keys(files).join('-')}.json`);
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-concurrency=2',
      `--import=${WATCHDOG}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${REPORTER}`,
      `--test-reporter-destination=${out}`,
      ...paths,
    ],
    { encoding: 'utf8', env: runnerEnv(env), timeout: 120_000 },
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as VerdictReport;
  return { r, paths, lost: missingVerdicts(report, paths) };
}

/** A fresh runner's environment: not marked as a child of the runner this test runs in. */
function runnerEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

const HEAD = "import { test, describe } from 'node:test';\n";

test('every declared test, subtest and suite with a verdict and a summary: nothing is missing', () => {
  const { r, lost } = runFiles({
    'complete-a.test.mjs': `${HEAD}test('a', () => {});\ndescribe('s', () => { test('b', () => {}); test('c', async (t) => { await t.test('d', () => {}); }); });\nfor (const n of [1, 2, 3]) test('loop', () => {});\n`,
    'complete-b.test.mjs': `${HEAD}test('x', { skip: true }, () => {});\ntest('y', () => {});\n`,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(lost, []);
});

test('a file whose process ends before its report reaches the runner is caught, though the runner passes it', () => {
  // The shape of nodejs/node#64833: the process is gone before (the tail of) its report arrives.
  const { r, paths, lost } = runFiles({
    'cut-short.test.mjs': `${HEAD}test('first', () => {});\ntest('second', () => { process.exit(0); });\ntest('third', () => {});\n`,
  });
  assert.equal(r.status, 0, 'Node itself counts the file as passed');
  assert.equal(lost.length > 0, true, r.stdout);
  assert.ok(lost.every((l) => l.file === paths[0]));
});

test('the lost tests of a file are named, and a file that reported nothing', () => {
  const lost = missingVerdicts(
    {
      '/x/cut.test.ts': {
        declared: { '0 a @1:1': 1, '0 b @2:1': 1 },
        reported: { '0 a @1:1': 1 },
        summary: false,
      },
    },
    ['/x/cut.test.ts', '/x/never.test.ts'],
  );
  assert.deepEqual(lost, [
    { file: '/x/cut.test.ts', problem: '1 declared test(s) without a verdict: b @2:1' },
    { file: '/x/cut.test.ts', problem: 'its closing summary never arrived (the end of its report was lost)' },
    {
      file: '/x/never.test.ts',
      problem: 'nothing of it reported, not even its closing summary (its whole report was lost)',
    },
  ]);
});

test('a file left running by an open handle fails loudly, naming it, instead of hanging the run', () => {
  const { r, lost } = runFiles(
    {
      'left-open.test.mjs': `${HEAD}test('opens a timer and forgets it', () => { setInterval(() => {}, 1000); });\n`,
    },
    { SOCSTREAM_TEST_LINGER_MS: '1500' },
  );
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr + r.stdout,
    /left-open\.test\.mjs finished its tests 1\.5 s ago but is still running/,
  );
  // Its test's verdict arrived; only the file's closing summary (sent at a normal exit) is missing.
  assert.deepEqual(
    lost.map((l) => l.problem),
    ['its closing summary never arrived (the end of its report was lost)'],
  );
});
