/**
 * `npm test`: lint (scripts/lint.ts: Biome and dependency-cruiser), type check, then every test file under test/ on Node's test runner.
 * Starts the local Kafka broker when none answers on 127.0.0.1:9092 and Java and Maven are
 * present (and stops it afterwards); SOCSTREAM_SKIP_KAFKA=1 skips the Kafka tests, loudly.
 *   --unit         only tests that need no broker, database or browser (test/**, minus integration)
 *   --reliability  the long reliability suite (test/reliability)
 *   FILES...       run just these test files
 */
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LostVerdicts, missingVerdicts, type VerdictReport } from './test-verdicts.ts';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const reliability = args.includes('--reliability');
const explicit = args.filter((a) => !a.startsWith('--'));
const absent = explicit.filter((f) => !existsSync(f));
if (absent.length > 0) {
  process.stderr.write(`test: no such test file: ${absent.join(', ')}\n`);
  process.exit(2);
}

function run(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env });
  return r.status ?? 1;
}

function brokerAnswers(host = '127.0.0.1', port = 9092, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const node = process.execPath;
if (!explicit.length && !reliability) {
  if (run(node, ['scripts/lint.ts']) !== 0) process.exit(1);
  if (run(node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0)
    process.exit(1);
}

const env = { ...process.env };
let startedKafka = false;
const wantsKafka = !unitOnly && env.SOCSTREAM_SKIP_KAFKA !== '1';
if (wantsKafka && !(await brokerAnswers())) {
  if (has('java') && has('mvn')) {
    if (run(node, ['scripts/kafka.ts', 'start']) !== 0) {
      process.stderr.write('test: could not start the local Kafka broker (see above)\n');
      process.exit(1);
    }
    startedKafka = true;
  } else {
    env.SOCSTREAM_SKIP_KAFKA = '1';
  }
}
if (unitOnly) env.SOCSTREAM_SKIP_KAFKA = '1';
if (env.SOCSTREAM_SKIP_KAFKA === '1') {
  process.stderr.write(
    '\n*** SOCSTREAM_SKIP_KAFKA=1: the Kafka integration tests are SKIPPED (no broker, or Java/Maven missing) ***\n\n',
  );
}

let files: string[];
if (explicit.length) files = explicit;
else if (reliability) files = globSync('test/reliability/**/*.test.ts');
else {
  files = globSync('test/**/*.test.ts').filter((f) => !f.startsWith('test/reliability/'));
  if (unitOnly) files = files.filter((f) => !f.includes('/integration/') && !f.startsWith('test/web/'));
}
files.sort();

// No --test-force-exit: with --test-concurrency > 1 it can lose the verdicts of a file's last
// tests and still exit 0 (nodejs/node#64833). Instead, scripts/test-watchdog.ts ends a file whose
// process outlives its tests by a minute (a client left open) with a loud failure, and
// scripts/test-verdicts.ts counts each file's declared tests against the verdicts received: a
// difference fails the run.
const base = [
  '--test',
  '--test-timeout=600000',
  '--test-concurrency=2',
  `--import=${pathToFileURL(resolve('scripts/test-watchdog.ts')).href}`,
];
const junit = join(tmpdir(), `socstream-test-${process.pid}.xml`);
const verdicts = join(tmpdir(), `socstream-test-verdicts-${process.pid}.json`);
const verdictReporter = [
  `--test-reporter=${pathToFileURL(resolve('scripts/test-verdicts.ts')).href}`,
  `--test-reporter-destination=${verdicts}`,
];
let code = run(
  node,
  [
    ...base,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=junit',
    `--test-reporter-destination=${junit}`,
    ...verdictReporter,
    ...files,
  ],
  env,
);
let lost = lostVerdicts(files);
// Integration tests race real brokers, databases and a browser on a small machine. A file that
// fails is run once more, alone; if it passes then, the run passes but names it as FLAKY, loudly.
// Anything failing twice, or more than MAX_RETRIED_FILES files failing, fails the run.
const MAX_RETRIED_FILES = 3;
if (code !== 0 && existsSync(junit)) {
  const failed = failedFiles(readFileSync(junit, 'utf8'));
  // A test declared in a helper (test/helpers/*.ts) reports the helper as its file: running the
  // helper alone runs no test and "passes". Only files that were run are retried.
  const ran = new Set(files.map((f) => resolve(f)));
  const unknown = failed.filter((f) => !ran.has(resolve(f)));
  if (unknown.length > 0)
    process.stderr.write(
      `\n*** test: not retried, the failing test is declared outside the test files run: ${unknown.join(', ')} ***\n\n`,
    );
  else if (failed.length > 0 && failed.length <= MAX_RETRIED_FILES) {
    process.stderr.write(`\n*** test: retrying once, alone: ${failed.join(', ')} ***\n\n`);
    const retry = run(
      node,
      [...base, '--test-reporter=spec', '--test-reporter-destination=stdout', ...verdictReporter, ...failed],
      env,
    );
    // A retried file is judged by its retry alone (a crash in the first run loses its tail too).
    const lostOnRetry = lostVerdicts(failed);
    const retried = new Set(failed.map((f) => resolve(f)));
    lost = [...lost.filter((l) => !retried.has(l.file)), ...lostOnRetry];
    if (retry === 0 && lostOnRetry.length === 0) {
      process.stderr.write(`\n*** test: FLAKY — failed once, passed on retry: ${failed.join(', ')} ***\n\n`);
      code = 0;
    }
  }
}
if (lost.length > 0) {
  process.stderr.write(
    `\n*** test: VERDICTS LOST — tests ran whose results never reached the runner (nodejs/node#64833):\n${lost.map((l) => `  ${l.file}: ${l.problem}`).join('\n')}\n***\n\n`,
  );
  code = 1;
}
rmSync(junit, { force: true });
rmSync(verdicts, { force: true });
if (startedKafka) run(node, ['scripts/kafka.ts', 'stop']);
process.exit(code);

/** What the verdict reporter found missing for these files in the run that just ended. */
function lostVerdicts(ran: readonly string[]): LostVerdicts[] {
  if (!existsSync(verdicts)) return [{ file: verdicts, problem: 'the verdict report was not written' }];
  const report = JSON.parse(readFileSync(verdicts, 'utf8')) as VerdictReport;
  rmSync(verdicts, { force: true });
  return missingVerdicts(
    report,
    ran.map((f) => resolve(f)),
  );
}

/** Test files with a failing test case in Node's JUnit report. */
function failedFiles(xml: string): string[] {
  const out = new Set<string>();
  for (const m of xml.matchAll(/<testcase\b[^>]*\bfile="([^"]+)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/\bfailure=|<failure\b/.test(m[0])) out.add(m[1]);
  }
  return [...out];
}
