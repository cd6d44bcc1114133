/**
 * `npm run build` as a clean clone runs it, and the built CLI's key behaviours. The build runs in a
 * copy of the files git tracks (minus test/, with node_modules linked), so it never touches this
 * checkout's dist/ while other tests run.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  globSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_MARKER, cliEntry } from '../../bin/entry.js';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SSHD_LOG = join(SHARED_DATA, 'auth/crowdsec-hub/ssh-bf__ssh-bf.log');
const ZEEK_DNS = join(SHARED_DATA, 'zeek-tsv/wrccdc2018-zeek6.2/dns.log');
const EVE = join(SHARED_DATA, 'suricata/surevego/eve.json');

let clone: string;
let filesBefore: string[];
let buildRun: SpawnSyncReturns<string>;

function treeFiles(dir: string): string[] {
  return globSync('**/*', { cwd: dir, withFileTypes: true, exclude: (d) => d.name === 'node_modules' })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

function build(cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['scripts/build.ts'], { cwd, encoding: 'utf8', timeout: 600_000 });
}

/** The built CLI through the package's bin, from the clone. */
function socstream(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(clone, 'bin/socstream.js'), ...args], {
    cwd: clone,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function dataLines(file: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
}

before(() => {
  clone = mkdtempSync(join(tmpdir(), 'socstream-build-'));
  const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0');
  for (const file of tracked) {
    if (file === '' || file.startsWith('test/') || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  filesBefore = treeFiles(clone);
  buildRun = build(clone);
});

after(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

test('npm run build succeeds on a clean tree and writes nothing outside dist/', () => {
  assert.equal(buildRun.status, 0, buildRun.stderr);
  const outside = treeFiles(clone).filter((f) => !f.startsWith('dist/'));
  assert.deepEqual(outside, filesBefore, 'the build wrote into the source tree');
  assert.ok(existsSync(join(clone, 'dist', BUILD_MARKER)), 'the completion marker is written');
  assert.deepEqual(
    treeFiles(clone).filter((f) => /^dist\.(building|old)-/.test(f)),
    [],
    'no temporary build folder is left',
  );
});

test('dist/ holds every data file the code reads beside itself, and the dashboard', () => {
  const data = treeFiles(join(clone, 'src')).filter((f) => !/\.tsx?$/.test(f) && !f.startsWith('web/'));
  assert.ok(data.includes('detect/sigma/logsources.yaml'));
  assert.ok(data.some((f) => f.startsWith('normalize/mappings/zeek/')));
  for (const f of data) {
    assert.equal(
      readFileSync(join(clone, 'dist', f), 'utf8'),
      readFileSync(join(clone, 'src', f), 'utf8'),
      f,
    );
  }
  const html = readFileSync(join(clone, 'dist/web/index.html'), 'utf8');
  const assets = [...html.matchAll(/\/assets\/(app-[\w-]+\.(?:js|css))/g)].map((m) => m[1]);
  assert.equal(assets.length, 2, 'index.html names its hashed script and stylesheet');
  for (const a of assets) assert.ok(existsSync(join(clone, 'dist/web/assets', a)), a);
  assert.deepEqual(
    treeFiles(join(clone, 'dist')).filter((f) => f.endsWith('.ts')),
    [],
    'no TypeScript in dist/',
  );
});

test('bin/socstream.js runs dist/ once a build is complete, the sources otherwise', () => {
  const root = pathToFileURL(`${clone}/`);
  assert.equal(cliEntry(root).href, new URL('dist/cli/main.js', root).href);
  const bare = mkdtempSync(join(tmpdir(), 'socstream-entry-'));
  try {
    const bareRoot = pathToFileURL(`${bare}/`);
    assert.equal(cliEntry(bareRoot).href, new URL('src/cli/main.ts', bareRoot).href, 'no dist/');
    mkdirSync(join(bare, 'dist/cli'), { recursive: true });
    writeFileSync(join(bare, 'dist/cli/main.js'), '');
    assert.equal(cliEntry(bareRoot).href, new URL('src/cli/main.ts', bareRoot).href, 'dist/ without marker');
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
  const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { version: string };
  const r = socstream(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('the built CLI parses real sshd, Zeek TSV and Suricata EVE logs into envelopes', () => {
  for (const [file, source] of [
    [SSHD_LOG, 'sshd'],
    [ZEEK_DNS, 'zeek'],
    [EVE, 'suricata'],
  ] as const) {
    const r = socstream(['parse', file]);
    assert.equal(r.status, 0, r.stderr);
    const envelopes = ndjson(r.stdout);
    assert.ok(envelopes.length > 0, `${file}: no envelopes`);
    assert.ok(
      envelopes.every((e) => e.source === source),
      `${file}: every envelope's source is ${source}`,
    );
    if (source !== 'suricata')
      assert.equal(envelopes.length, dataLines(file), `${file}: one envelope a line`);
  }
});

test('the built CLI detects the brute force in a real sshd log with the bundled rules (logsources from dist/)', () => {
  const r = socstream(['detect', '--rules', 'rules', SSHD_LOG]);
  assert.equal(r.status, 0, r.stderr);
  const alerts = ndjson(r.stdout);
  const attacker = /from (\d+\.\d+\.\d+\.\d+) port/.exec(readFileSync(SSHD_LOG, 'utf8'))?.[1];
  assert.ok(attacker);
  assert.ok(
    alerts.some((a) => a.entity === attacker),
    `an alert on ${attacker}: ${r.stdout}`,
  );
});

test('the built CLI checks the rule pack, runs its fixtures, and exits 2 on a bad config naming the key', () => {
  const check = socstream(['rules', 'check', 'rules']);
  assert.equal(check.status, 0, check.stderr + check.stdout);
  const fixtures = socstream(['rules', 'test', 'rules']);
  assert.equal(fixtures.status, 0, fixtures.stderr + fixtures.stdout);
  const config = join(clone, 'typo.yaml');
  writeFileSync(config, 'lake:\n  flush_evnt_count: 10\n');
  try {
    const bad = socstream(['run', '--config', config]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /SOC_CONFIG_INVALID.*flush_evnt_count|flush_evnt_count[\s\S]*Fix/);
  } finally {
    rmSync(config, { force: true });
  }
});

test('a failed build leaves no dist/ for the bin to run', () => {
  const main = join(clone, 'src/web/main.tsx');
  const good = readFileSync(main, 'utf8');
  writeFileSync(main, `${good}\nexport const broken = (;\n`);
  try {
    const r = build(clone);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /build: FAILED/);
    assert.equal(existsSync(join(clone, 'dist')), false, 'the older dist/ is removed too');
    assert.deepEqual(
      treeFiles(clone).filter((f) => /^dist/.test(f)),
      [],
    );
    assert.equal(cliEntry(pathToFileURL(`${clone}/`)).pathname.endsWith('/src/cli/main.ts'), true);
  } finally {
    writeFileSync(main, good);
  }
});
