import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Envelope } from '../../../src/core/envelope.ts';
import {
  type ConditionNode,
  checkCondition,
  compileCondition,
  emptyPatterns,
  expandPattern,
  parseCondition,
} from '../../../src/detect/sigma/condition.ts';
import type { Predicate } from '../../../src/detect/sigma/modifiers.ts';
import { envelope } from './helpers.ts';

function tree(text: string): ConditionNode {
  const t = parseCondition(text);
  assert.ok(!('feature' in t), `'${text}' should parse: ${'message' in t ? t.message : ''}`);
  return t as ConditionNode;
}

/** Evaluates a condition with identifiers set to fixed truth values. */
function evaluate(text: string, truth: Record<string, boolean>): boolean {
  const ids = new Map<string, Predicate>(Object.entries(truth).map(([k, v]) => [k, () => v]));
  const node = tree(text);
  assert.equal(checkCondition(node, [...ids.keys()]), undefined);
  return compileCondition(node, ids)(envelope('t', 't', {}) as Envelope);
}

test('precedence: not binds tighter than and, and tighter than or', () => {
  assert.deepEqual(tree('a or b and not c'), {
    op: 'or',
    args: [
      { op: 'id', name: 'a' },
      {
        op: 'and',
        args: [
          { op: 'id', name: 'b' },
          { op: 'not', arg: { op: 'id', name: 'c' } },
        ],
      },
    ],
  });
  assert.equal(evaluate('a or b and not c', { a: false, b: true, c: true }), false);
  assert.equal(evaluate('a or b and not c', { a: true, b: false, c: true }), true);
});

test('parentheses override precedence; keywords are case-insensitive', () => {
  assert.equal(evaluate('(a OR b) AND NOT c', { a: true, b: false, c: false }), true);
  assert.equal(evaluate('(a or b) and not c', { a: true, b: false, c: true }), false);
  assert.equal(evaluate('not (a and b)', { a: true, b: true }), false);
  assert.equal(evaluate('not not a', { a: true }), true);
});

test('1 of / any of / all of a pattern, and of them', () => {
  const t = { selection1: false, selection2: true, filter_main: false, _hidden: true };
  assert.equal(evaluate('1 of selection*', t), true);
  assert.equal(evaluate('any of selection*', t), true);
  assert.equal(evaluate('all of selection*', t), false);
  assert.equal(evaluate('1 of selection* and not 1 of filter_*', t), true);
  // `them` ignores identifiers starting with an underscore (spec "Condition").
  assert.deepEqual(expandPattern('them', Object.keys(t)), ['selection1', 'selection2', 'filter_main']);
  assert.equal(evaluate('all of them', { a: true, b: true, _x: false }), true);
  assert.equal(evaluate('1 of them', { a: false, b: false, _x: true }), false);
});

test('the Zeek z-bit rule condition evaluates as written', () => {
  const c =
    'not z_flag_unset and most_probable_valid_domain and not (exclude_tlds or exclude_query_types or exclude_responses or exclude_netbios)';
  const base = {
    z_flag_unset: false,
    most_probable_valid_domain: true,
    exclude_tlds: false,
    exclude_query_types: false,
    exclude_responses: false,
    exclude_netbios: false,
  };
  assert.equal(evaluate(c, base), true);
  assert.equal(evaluate(c, { ...base, exclude_netbios: true }), false);
  assert.equal(evaluate(c, { ...base, z_flag_unset: true }), false);
});

test('unknown identifiers are errors; patterns that match nothing are warnings with the value rsigma gives', () => {
  const err = checkCondition(tree('selection and filter'), ['selection']);
  assert.equal(err?.feature, 'unknown identifier');
  assert.match(err?.message ?? '', /filter/);
  // rsigma evaluates an empty selector as count >= 1 (false) / count == 0 (true); pySigma builds
  // an empty OR / AND. Not an error, a warning.
  assert.equal(checkCondition(tree('1 of filter_*'), ['selection']), undefined);
  assert.deepEqual(emptyPatterns(tree('selection and not 1 of filter_*'), ['selection']), [
    "'1 of filter_*' names no search identifier; it is always false",
  ]);
  assert.deepEqual(emptyPatterns(tree('all of filter_* or 1 of sel*'), ['selection']), [
    "'all of filter_*' names no search identifier; it is always true",
  ]);
  assert.equal(evaluate('selection and not 1 of filter_*', { selection: true }), true);
  assert.equal(evaluate('selection and all of filter_*', { selection: true }), true);
  assert.equal(evaluate('selection and any of filter_*', { selection: true }), false);
});

test('syntax errors are problems, never exceptions', () => {
  for (const bad of ['a and', '(a or b', 'a b', 'and a', 'a or )', '1 of', 'two of x*', '']) {
    const r = parseCondition(bad);
    assert.ok('feature' in r, `'${bad}' should fail`);
    assert.equal(r.severity, 'error');
  }
});

test('legacy aggregations (| count() by, near) are reported as unsupported', () => {
  for (const legacy of ['selection | count(dst_port) by src_ip > 10', 'selection1 near selection2']) {
    const r = parseCondition(legacy);
    assert.ok('feature' in r);
    assert.equal(r.severity, 'unsupported');
    assert.equal(r.feature, 'aggregation (legacy count/near)');
  }
});
