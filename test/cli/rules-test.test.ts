import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const RULES = new URL('../../rules/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'socstream-rules-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rulesTest(path: string) {
  return spawnSync(process.execPath, [MAIN, 'rules', 'test', path], { encoding: 'utf8' });
}

test('rules test passes on the bundled pack (exit 0, one PASS line per rule file)', () => {
  const r = rulesTest(RULES);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS ssh_password_spray: positive 1 alert\(s\), negative 0$/m);
  assert.match(r.stdout, /20\/20 rule files pass their fixtures/);
});

test('a rule that fires on its negative fixture, or lacks fixtures, fails with exit 1', () => {
  const rule = `title: Any threat
id: 11111111-2222-4333-8444-555555555555
logsource: { product: socstream, service: threat }
detection:
    selection:
        host|exists: true
    condition: selection
level: low
`;
  writeFileSync(join(dir, 'any_threat.yml'), rule);
  writeFileSync(join(dir, 'no_fixtures.yml'), rule.replace('11111111', '99999999'));
  mkdirSync(join(dir, 'fixtures/any_threat'), { recursive: true });
  const line = '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}\n';
  writeFileSync(join(dir, 'fixtures/any_threat/positive.json'), line);
  writeFileSync(join(dir, 'fixtures/any_threat/negative.json'), line);
  writeFileSync(
    join(dir, 'fixtures/any_threat/fixture.json'),
    JSON.stringify({ format: 'threat-json', positive: 'test', negative: 'test' }),
  );
  const r = rulesTest(dir);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL any_threat: positive 1 alert\(s\), negative 1$/m);
  assert.match(r.stdout, /fired 1× on .*negative\.json/);
  assert.match(r.stdout, /^FAIL no_fixtures:/m);
  assert.match(r.stdout, /missing fixtures/);
  assert.match(r.stdout, /0\/2 rule files pass/);
});

test('negative-only and positive-only fixtures check their half (issue 15)', async () => {
  const { runRuleFixtures } = await import('../../src/cli/rules-test.ts');
  const { detectSchema } = await import('../../src/config/schema.ts');
  const own = join(dir, 'halves');
  const rule = `title: Critical threat
id: 22222222-2222-4333-8444-555555555555
logsource: { product: socstream, service: threat }
detection:
    selection:
        severity: critical
    condition: selection
level: high
`;
  mkdirSync(own, { recursive: true });
  writeFileSync(join(own, 'quiet.yml'), rule);
  writeFileSync(join(own, 'loud.yml'), rule.replace('22222222', '33333333'));
  const high = '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}\n';
  const critical = '{"host": "endpoint03", "threat": "exploit_attempt", "severity": "critical"}\n';
  for (const [name, kind, line] of [
    ['quiet', 'negative', high],
    ['loud', 'positive', critical],
  ]) {
    mkdirSync(join(own, 'fixtures', name), { recursive: true });
    writeFileSync(join(own, 'fixtures', name, `${kind}.json`), line);
    writeFileSync(
      join(own, 'fixtures', name, 'fixture.json'),
      JSON.stringify({ format: 'threat-json', [kind]: 'seed 001 analyzer lines' }),
    );
  }
  const detect = detectSchema.parse({});
  const passing = await runRuleFixtures(own, detect);
  assert.deepEqual(
    passing.map((o) => [o.name, o.failures]),
    [
      ['loud', []],
      ['quiet', []],
    ],
  );
  // The negative-only fixture still fails when the rule fires on it.
  writeFileSync(join(own, 'fixtures', 'quiet', 'negative.json'), critical);
  const failing = await runRuleFixtures(own, detect);
  assert.match(failing[1].failures.join('\n'), /fired 1× on .*negative\.json/);
});
