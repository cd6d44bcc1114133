import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkRules, formatCheckReport } from '../../src/cli/rules.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function socstream(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ruleDir(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const GOOD =
  'title: Good\nid: good\nlogsource: {category: dns}\ndetection:\n  sel: {query|endswith: .onion}\n  condition: sel\n';
const LEGACY =
  'title: Legacy\nid: legacy\nlogsource: {category: dns}\ndetection:\n  sel: {query: x}\n  condition: sel | count() by src_ip > 5\n';
const BROKEN =
  'title: Broken\nid: broken\nlogsource: {category: dns}\ndetection:\n  sel: {query: x}\n  condition: sel and missing\n';
const WINDOWS =
  'title: Windows only\nid: win\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel: {Image|endswith: \\cmd.exe}\n  condition: sel\n';

describe('socstream rules check', () => {
  test('clean rules: exit 0, counts, and rules without any event source are pointed out', (t) => {
    const dir = ruleDir(t, { 'good.yml': GOOD, 'win.yml': WINDOWS });
    const r = socstream('rules', 'check', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^2 files: 2 rules compiled, 0 correlation rules, 0 problems \(0 errors\), 1 warnings/,
    );
    assert.match(
      r.stdout,
      /1 compiled rules have a logsource no configured logsource covers \(they never run;.*\n {2}1\tproduct=windows category=process_creation\n/,
    );
    // --verbose names each rule; --json lists them as warnings.
    assert.match(
      socstream('rules', 'check', '--verbose', dir).stdout,
      /warning: logsource without events \(1\)\n {2}.*win\.yml \[Windows only\]: no configured logsource covers product=windows category=process_creation/,
    );
    const json = JSON.parse(socstream('rules', 'check', '--json', dir).stdout);
    assert.deepEqual(
      json.warnings.map((w: { rule_id: string; feature: string }) => [w.rule_id, w.feature]),
      [['win', 'logsource without events']],
    );
  });

  test('--logsource / --field-map route a logsource to events, and the warning goes away', (t) => {
    const dir = ruleDir(t, { 'win.yml': WINDOWS });
    const r = socstream(
      'rules',
      'check',
      '--logsource',
      'product=windows,category=process_creation@json',
      '--field-map',
      'Image=process.executable',
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 problems \(0 errors\), 0 warnings\n$/);
    const bad = socstream('rules', 'check', '--logsource', 'windows', dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--logsource windows: expected product=NAME.*@SOURCE/);
    const lone = socstream('rules', 'check', '--field-map', 'a=b', dir);
    assert.equal(lone.code, 2);
    assert.match(lone.stderr, /--field-map needs a --logsource/);
  });

  test('unsupported features are listed by feature but do not fail the check', (t) => {
    const dir = ruleDir(t, { 'good.yml': GOOD, 'legacy.yml': LEGACY });
    const r = socstream('rules', 'check', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /unsupported: aggregation \(legacy count\/near\) \(1\)\n {2}.*legacy\.yml \[Legacy\]: condition/,
    );
  });

  test('an error exits 1 and names the file, the rule and the problem', (t) => {
    const dir = ruleDir(t, { 'good.yml': GOOD, 'broken.yml': BROKEN, 'legacy.yml': LEGACY });
    const r = socstream('rules', 'check', dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /error: unknown identifier \(1\)\n {2}.*broken\.yml \[Broken\]: condition names 'missing'/,
    );
    const json = JSON.parse(socstream('rules', 'check', '--json', dir).stdout);
    assert.equal(json.errors, 1);
    assert.equal(json.rules, 1);
    assert.equal(json.problems.length, 2);
  });

  test('a missing folder is a usage error (exit 2)', () => {
    const r = socstream('rules', 'check', '/nonexistent/rules');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SOC_USAGE: rules check \/nonexistent\/rules: no such file or folder/);
  });

  test('the SigmaHQ network and web folders check clean', () => {
    const report = checkRules([`${SHARED_DATA}/sigma/rules/network`, `${SHARED_DATA}/sigma/rules/web`]);
    assert.equal(report.files, 98);
    assert.equal(report.rules, 98);
    assert.equal(report.errors, 0);
    assert.match(formatCheckReport(report), /^98 files: 98 rules compiled/);
  });
});
