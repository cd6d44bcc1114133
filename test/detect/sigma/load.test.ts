import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { listRuleFiles, loadRules, type RuleSet } from '../../../src/detect/sigma/load.ts';
import { SHARED_DATA } from '../../helpers/shared-data.ts';
import { envelope, SIGMA } from './helpers.ts';

function tempRules(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Per file: compiled cleanly, or the first problem's severity and feature. */
function fileOutcomes(set: RuleSet): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of set.problems) if (!out.has(p.file)) out.set(p.file, `${p.severity}: ${p.feature}`);
  for (const r of set.rules) if (!out.has(r.file)) out.set(r.file, 'compiled');
  for (const c of set.correlations) if (!out.has(c.file)) out.set(c.file, 'correlation');
  return out;
}

test('a rule file named twice, directly or through its folder, is listed once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-rules-'));
  try {
    writeFileSync(join(dir, 'a.yml'), 'title: a\n');
    writeFileSync(join(dir, 'b.yml'), 'title: b\n');
    assert.deepEqual(listRuleFiles([dir, join(dir, 'a.yml'), `${dir}/./b.yml`, dir]), [
      join(dir, 'a.yml'),
      join(dir, 'b.yml'),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the SigmaHQ corpus (all 4,039 files in shared/data/sigma)', () => {
  const files = listRuleFiles([SIGMA]);
  const set = loadRules([SIGMA]);
  const outcomes = fileOutcomes(set);

  test('every file either compiles or is reported with its reason', () => {
    assert.equal(files.length, 4039);
    assert.equal(outcomes.size, 4039, 'each file has an outcome');
    const counts: Record<string, number> = {};
    for (const o of outcomes.values()) counts[o] = (counts[o] ?? 0) + 1;
    assert.deepEqual(counts, {
      compiled: 3938,
      'unsupported: timeframe (legacy aggregation)': 48,
      'unsupported: placeholder without values (expand)': 28,
      'unsupported: re (pathological)': 11,
      'unsupported: aggregation (legacy count/near)': 11,
      'error: condition syntax': 3,
    });
    // Multi-document `action: global` collections yield more rules than files.
    assert.equal(set.rules.length, 3939);
    for (const p of set.problems) {
      assert.ok(p.rule_id, `${p.file}: a problem names the rule`);
      assert.ok(p.message.length > 0);
    }
  });

  test('every rule of network/zeek, network/dns, network/firewall and web compiles and has events to run on', () => {
    for (const [dir, total] of [
      ['rules/network/zeek', 21],
      ['rules/network/dns', 7],
      ['rules/network/firewall', 1],
      ['rules/web', 45],
    ] as const) {
      const inDir = files.filter((f) => f.startsWith(`${SIGMA}/${dir}/`));
      assert.equal(inDir.length, total, dir);
      for (const f of inDir) assert.equal(outcomes.get(f), 'compiled', f);
      const rules = set.rules.filter((r) => r.file.startsWith(`${SIGMA}/${dir}/`));
      assert.equal(
        rules.filter((r) => r.targets.length > 0).length,
        total,
        `${dir}: every rule meets some event kind`,
      );
    }
  });

  test('with detect.placeholders set, the 28 placeholder rules compile too', () => {
    const files = [
      ...new Set(
        set.problems.filter((p) => p.feature === 'placeholder without values (expand)').map((p) => p.file),
      ),
    ];
    assert.equal(files.length, 28);
    // A rule may use several placeholders; each load reports the first missing one.
    const placeholders: Record<string, string[]> = {};
    let result = loadRules(files, { placeholders });
    for (let round = 0; round < 10 && result.problems.length > 0; round++) {
      for (const p of result.problems)
        placeholders[/placeholder %([^%]+)%/.exec(p.message)![1]] = ['svc_*', 'admin'];
      result = loadRules(files, { placeholders });
    }
    assert.ok('Administrators' in placeholders);
    assert.deepEqual(result.problems, []);
    assert.equal(result.rules.length, 28);
  });

  test('rules/linux compiles; only its sshd/auth/syslog rules have events in socstream', () => {
    const linux = files.filter((f) => f.startsWith(`${SIGMA}/rules/linux/`));
    assert.equal(linux.length, 210);
    for (const f of linux) assert.equal(outcomes.get(f), 'compiled', f);
    const active = set.rules.filter(
      (r) => r.file.startsWith(`${SIGMA}/rules/linux/`) && r.targets.length > 0,
    );
    // process_creation, auditd, file_event and network_connection need host telemetry socstream does not ingest.
    assert.equal(active.length, 18);
  });
});

describe('documents, collections and filters', () => {
  test('single and multi-document files: rules, correlations and filters are told apart', (t) => {
    const dir = tempRules(t, {
      'multi.yml': [
        'title: Failed login\nname: failed_login\nlogsource: {product: linux, service: sshd}\ndetection:\n  sel: {outcome: failure}\n  condition: sel',
        'title: Many failures\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [src_ip]\n  timespan: 5m\n  condition: {gte: 5}',
      ].join('\n---\n'),
      'single.yaml':
        'title: DNS tunnel\nid: r1\nlevel: high\ntags: [attack.t1071.004]\nlogsource: {category: dns}\ndetection:\n  sel: {query|endswith: .evil.test}\n  condition: sel',
      'notes.txt': 'not a rule',
    });
    const set = loadRules([dir]);
    assert.deepEqual(set.problems, []);
    assert.deepEqual(set.rules.map((r) => r.id).sort(), ['failed_login', 'r1']);
    assert.equal(set.correlations.length, 1);
    assert.equal(set.correlations[0].doc.title, 'Many failures');
    const r1 = set.rules.find((r) => r.id === 'r1')!;
    assert.equal(r1.level, 'high');
    assert.deepEqual(r1.tags, ['attack.t1071.004']);
    assert.equal(r1.match(envelope('zeek', 'dns', { query: 'x.EVIL.test' })), true);
    assert.equal(
      r1.match(envelope('zeek', 'conn', { query: 'x.evil.test' })),
      false,
      'other log types are not dns',
    );
  });

  test('action: global is deep-merged into every following document (Sigma 1.0 collections)', (t) => {
    const dir = tempRules(t, {
      'collection.yml': [
        'action: global\ntitle: Shared\nid: g1\ndetection:\n  sel: {name: spoolss}\n  condition: sel',
        'logsource: {product: zeek, service: smb_files}',
        'logsource: {product: zeek, service: dce_rpc}\ndetection:\n  sel: {endpoint: spoolss}',
      ].join('\n---\n'),
    });
    const set = loadRules([dir]);
    assert.deepEqual(set.problems, []);
    assert.equal(set.rules.length, 2);
    const [smb, rpc] = set.rules;
    assert.equal(smb.title, 'Shared');
    assert.equal(smb.match(envelope('zeek', 'smb_files', { name: 'SPOOLSS' })), true);
    // Maps merge deeply (as sigmac did): sel now needs both name and endpoint.
    assert.equal(rpc.match(envelope('zeek', 'dce_rpc', { endpoint: 'spoolss', name: 'spoolss' })), true);
    assert.equal(rpc.match(envelope('zeek', 'dce_rpc', { endpoint: 'spoolss' })), false);
  });

  test('a Sigma filter suppresses matches of the rules it names (sigma-filters-specification)', (t) => {
    const dir = tempRules(t, {
      'rule.yml':
        'title: Kerberos RC4\nid: 3e4f1d3b-0000-4000-8000-000000000001\nlogsource: {product: zeek, service: kerberos}\ndetection:\n  sel: {cipher: rc4-hmac}\n  condition: sel',
      'filter.yml':
        'title: Lab realm uses RC4\nlogsource: {product: zeek}\nfilter:\n  rules: [3e4f1d3b-0000-4000-8000-000000000001]\n  selection:\n    client|endswith: /LAB.TEST\n  condition: not selection',
    });
    const set = loadRules([dir]);
    assert.deepEqual(set.problems, []);
    assert.deepEqual(set.warnings, []);
    const [rule] = set.rules;
    assert.equal(
      rule.match(envelope('zeek', 'kerberos', { cipher: 'rc4-hmac', client: 'bob/CORP.TEST' })),
      true,
    );
    assert.equal(
      rule.match(envelope('zeek', 'kerberos', { cipher: 'rc4-hmac', client: 'bob/LAB.TEST' })),
      false,
    );
  });

  test('bad files become problems naming file, rule and feature; the good rules still load', (t) => {
    const dir = tempRules(t, {
      'a-broken.yml': 'title: [unclosed\n',
      'b-unknown-id.yml':
        'title: Bad condition\nid: bad1\nlogsource: {category: dns}\ndetection:\n  sel: {query: x}\n  condition: sel and filter',
      'c-aggregation.yml':
        'title: Old count\nid: old1\nlogsource: {category: dns}\ndetection:\n  sel: {query: x}\n  condition: sel | count() by src_ip > 10',
      'd-no-detection.yml': 'title: Nothing\nid: n1\nlogsource: {category: dns}',
      'e-good.yml':
        'title: Good\nid: good1\nlogsource: {category: dns}\ndetection:\n  sel: {query: x}\n  condition: sel',
      'f-list.yml': '- just\n- a list\n',
    });
    const set = loadRules([dir, join(dir, 'g-missing')]);
    assert.deepEqual(
      set.rules.map((r) => r.id),
      ['good1'],
    );
    const got = set.problems.map((p) => [p.file.split('/').pop(), p.rule_id ?? null, p.severity, p.feature]);
    assert.deepEqual(got, [
      ['g-missing', null, 'error', 'path'],
      ['a-broken.yml', null, 'error', 'yaml'],
      ['b-unknown-id.yml', 'bad1', 'error', 'unknown identifier'],
      ['c-aggregation.yml', 'old1', 'unsupported', 'aggregation (legacy count/near)'],
      ['d-no-detection.yml', 'n1', 'error', 'document'],
      ['f-list.yml', null, 'error', 'document'],
    ]);
    assert.equal(set.problems[2].title, 'Bad condition');
  });

  test('the correlation test corpus: every correlation document is handed on, its rules compile', () => {
    const set = loadRules([`${SHARED_DATA}/sigma-correlation`]);
    assert.equal(set.correlations.length, 23);
    assert.ok(set.rules.length >= 6);
    // What remains are the legacy `| count()` / timeframe rules kept there on purpose.
    for (const p of set.problems) assert.equal(p.severity, 'unsupported', `${p.file}: ${p.message}`);
  });
});
