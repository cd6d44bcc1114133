import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bindDetection, compileDetection } from '../../../src/detect/sigma/compile.ts';
import { parseCondition } from '../../../src/detect/sigma/condition.ts';
import type { FieldScope } from '../../../src/detect/sigma/modifiers.ts';
import { envelope } from './helpers.ts';

const opts = { placeholders: {}, regexMaxLength: 4096 };
const scope: FieldScope = {
  field: (name) => (env) => env.raw[name],
  keywords: (env, t) => Object.values(env.raw).some((v) => typeof v === 'string' && t(v)),
};

test('a detection is compiled once and bound: maps AND, lists OR, keyword lists, a list of conditions OR-ed', () => {
  const plan = compileDetection(
    {
      selection: { method: 'PUT', 'user_agent|contains': 'WebDAV' },
      alt: [{ uri: '/a' }, { uri: '/b' }],
      keywords: ['evil', 'bad'],
      condition: ['selection', 'alt and keywords'],
    },
    opts,
  );
  assert.ok(!('severity' in plan));
  assert.deepEqual(plan.fields.sort(), ['method', 'uri', 'user_agent']);
  const p = bindDetection(plan, scope);
  const e = (raw: Record<string, unknown>) => envelope('zeek', 'http', raw);
  assert.equal(p(e({ method: 'put', user_agent: 'Microsoft-WebDAV-MiniRedir' })), true);
  assert.equal(p(e({ method: 'GET', user_agent: 'Microsoft-WebDAV-MiniRedir' })), false);
  assert.equal(p(e({ uri: '/b', note: 'very bad' })), true);
  assert.equal(p(e({ uri: '/b', note: 'fine' })), false);
});

test('detection problems: missing condition, a scalar identifier, the legacy timeframe', () => {
  const missing = compileDetection({ sel: { a: 1 } }, opts);
  assert.ok('severity' in missing && missing.feature === 'condition');
  const scalar = compileDetection({ sel: null, condition: 'sel' }, opts);
  assert.ok('severity' in scalar && scalar.feature === 'search identifier');
  const tf = compileDetection({ sel: { a: 1 }, timeframe: '5m', condition: 'sel' }, opts);
  assert.ok('severity' in tf && tf.severity === 'unsupported');
});

test('nothing crashes: arbitrary detection sections compile to a plan or a problem, and plans evaluate', () => {
  const key = fc.oneof(
    fc.constantFrom(
      'a',
      'b|contains',
      'c|re',
      'd|cidr',
      'e|all',
      '|all',
      'f|base64offset|contains',
      'g|exists',
      'h|gt',
      'i|windash',
      'j|fieldref',
      'k|hour',
    ),
    fc.string({ maxLength: 12 }),
  );
  const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
  const value = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), scalar),
  );
  const search = fc.oneof(
    fc.dictionary(key, value, { maxKeys: 4 }),
    fc.array(fc.oneof(scalar, fc.dictionary(key, value)), { maxLength: 3 }),
    scalar,
  );
  const detection = fc.record({
    sel: search,
    filter_x: search,
    condition: fc.oneof(
      fc.constantFrom('sel', 'sel and not 1 of filter_*', 'all of them', '1 of sel*'),
      fc.string({ maxLength: 20 }),
    ),
  });
  const raw = fc.dictionary(
    fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'),
    fc.oneof(scalar, fc.array(scalar)),
  );
  fc.assert(
    fc.property(detection, raw, (det, fields) => {
      const plan = compileDetection(det, opts);
      if ('severity' in plan) return;
      assert.equal(typeof bindDetection(plan, scope)(envelope('t', 't', fields)), 'boolean');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (text) => void parseCondition(text)),
    { numRuns: 2000 },
  );
});
