/**
 * `npm test`: lint, type check, then every test file under test/ on Node's test runner.
 * Starts the local Kafka broker when none answers on 127.0.0.1:9092 and Java and Maven are
 * present (and stops it afterwards); SOCSTREAM_SKIP_KAFKA=1 skips the Kafka tests, loudly.
 *   --unit         only tests that need no broker, database or browser (test/**, minus integration)
 *   --reliability  the long reliability suite (test/reliability)
 *   FILES...       run just these test files
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { connect } from 'node:net';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const reliability = args.includes('--reliability');
const explicit = args.filter((a) => !a.startsWith('--'));

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
  if (run(node, ['node_modules/@biomejs/biome/bin/biome', 'check', '.']) !== 0) process.exit(1);
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

const code = run(
  node,
  [
    '--test',
    '--test-reporter=spec',
    '--test-timeout=600000',
    '--test-force-exit',
    '--test-concurrency=2',
    ...files,
  ],
  env,
);
if (startedKafka) run(node, ['scripts/kafka.ts', 'stop']);
process.exit(code);
