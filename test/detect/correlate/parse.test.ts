import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  conditionHolds,
  isCorrelationDoc,
  parseCorrelation,
  parseTimespan,
} from '../../../src/detect/correlate/parse.ts';

const ROOT = new URL('../../../../shared/data/sigma-correlation/', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

function correlationDocs(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter(isCorrelationDoc);
}

test('every correlation test rule, spec example and hayabusa rule parses', () => {
  const dirs = ['sigma-specification/tests', 'sigma-specification/spec-examples', 'hayabusa-rules'];
  let parsed = 0;
  const problems: string[] = [];
  for (const dir of dirs) {
    for (const file of yamlFiles(join(ROOT, dir))) {
      correlationDocs(file).forEach((doc, i) => {
        const r = parseCorrelation(doc, file, i);
        if (r.ok) parsed++;
        else problems.push(r.problem);
      });
    }
  }
  // 01_related_rules.yml is the spec's fragment illustrating `rules` only: it has no type, and the
  // parser says so instead of guessing.
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /01_related_rules\.yml.*correlation\.type is missing/);
  assert.equal(parsed, 22); // 8 tests + 10 example documents + 4 hayabusa
});

test('the failed-logins-then-success example parses into a chain with names and a level', () => {
  const file = join(
    ROOT,
    'sigma-specification/spec-examples/15_failed_logins_followed_by_successful_login_multidoc.yml',
  );
  const [outer, inner] = correlationDocs(file).map((d, i) => parseCorrelation(d, file, i));
  assert.ok(outer.ok && inner.ok);
  assert.equal(outer.def.type, 'temporal_ordered');
  assert.deepEqual(outer.def.rules, ['multiple_failed_login', 'successful_login']);
  assert.equal(outer.def.level, 'high');
  assert.equal(outer.def.timespanMs, 600_000);
  assert.equal(inner.def.name, 'multiple_failed_login');
  assert.deepEqual(inner.def.condition?.criteria, [{ op: 'gte', value: 10 }]);
});

test('aliases and value_count fields are read as the spec writes them', () => {
  const alias = parseCorrelation(
    correlationDocs(
      join(ROOT, 'sigma-specification/spec-examples/14_field_name_aliases_example_multidoc.yml'),
    )[0],
    'x.yml',
  );
  assert.ok(alias.ok);
  assert.deepEqual(alias.def.aliases.internal_ip, {
    internal_error: 'destination.ip',
    new_network_connection: 'source.ip',
  });
  assert.equal(alias.def.timespanMs, 10_000);
  const vc = parseCorrelation(
    correlationDocs(join(ROOT, 'hayabusa-rules/Sec_4648_Med_ExplicitLogon_PW-Spray_Correlation.yml'))[0],
    'y.yml',
  );
  assert.ok(vc.ok);
  assert.equal(vc.def.type, 'value_count');
  assert.deepEqual(vc.def.condition, { criteria: [{ op: 'gte', value: 5 }], field: ['TargetUserName'] });
});

test('timespans: number + s|m|h|d only', () => {
  assert.equal(parseTimespan('30s'), 30_000);
  assert.equal(parseTimespan('90m'), 5_400_000);
  assert.equal(parseTimespan('1h'), 3_600_000);
  assert.equal(parseTimespan('2d'), 172_800_000);
  assert.equal(parseTimespan('1H'), null);
  assert.equal(parseTimespan('1w'), null);
  assert.equal(parseTimespan('0s'), null);
  assert.equal(parseTimespan('m'), null);
});

test('bad correlations are problems naming the rule, never exceptions', () => {
  const base = {
    title: 'T',
    correlation: { type: 'event_count', rules: ['a'], 'group-by': ['x'], timespan: '5m' },
  };
  const cases: Array<[unknown, RegExp]> = [
    [
      { ...base, correlation: { ...base.correlation, type: 'sequence' } },
      /unknown correlation type 'sequence'/,
    ],
    [base, /event_count needs correlation.condition/],
    [
      { ...base, correlation: { ...base.correlation, condition: { above: 3 } } },
      /unknown condition operator 'above'/,
    ],
    [{ ...base, correlation: { ...base.correlation, condition: { gte: 'x' } } }, /needs a number/],
    [
      { ...base, correlation: { ...base.correlation, timespan: '5 minutes', condition: { gte: 1 } } },
      /timespan/,
    ],
    [
      { ...base, correlation: { ...base.correlation, type: 'value_count', condition: { gte: 1 } } },
      /needs condition.field/,
    ],
    [{ ...base, correlation: { ...base.correlation, rules: [], condition: { gte: 1 } } }, /rules is missing/],
  ];
  for (const [doc, re] of cases) {
    const r = parseCorrelation(doc, 'bad.yml');
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.problem, re);
      assert.match(r.problem, /bad\.yml: correlation 'T'/);
    }
  }
});

test('condition operators and ranges (AND of criteria)', () => {
  const range = [
    { op: 'gt', value: 100 },
    { op: 'lte', value: 200 },
  ] as const;
  assert.equal(conditionHolds([...range], 100), false);
  assert.equal(conditionHolds([...range], 101), true);
  assert.equal(conditionHolds([...range], 200), true);
  assert.equal(conditionHolds([...range], 201), false);
  assert.equal(conditionHolds([{ op: 'eq', value: 3 }], 3), true);
  assert.equal(conditionHolds([{ op: 'neq', value: 3 }], 3), false);
  assert.equal(conditionHolds([{ op: 'lt', value: 3 }], 2), true);
  assert.equal(conditionHolds([{ op: 'gte', value: 3 }], 3), true);
});
