import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Fields } from '../../src/core/envelope.ts';
import { applyStep, type CompiledMapping, textOf } from '../../src/normalize/mapping.ts';
import { loadMappings } from '../../src/normalize/normalize.ts';
import { parserFor } from '../../src/parsers/registry.ts';

/**
 * The generated per-log-type function (mapping.ts generateApply) against the step-by-step
 * reading of the same mapping (applyStep): statics, then each step's value when it has one. Run on
 * the raw records of the real case lines (test/fixtures/normalize/cases, SOURCES.md there) and on
 * copies of them where every raw path a mapping reads is set to values of the wrong or an edge type.
 */
const CASES = new URL('../fixtures/normalize/cases/', import.meta.url);
const FORMAT_OF: Readonly<Record<string, string>> = {
  'zeek-json': 'zeek-json',
  'zeek-constructed': 'zeek-json',
  'zeek-tsv': 'zeek-tsv',
  suricata: 'suricata-eve',
  sshd: 'sshd',
  nginx: 'nginx',
  threat: 'threat-json',
  other: 'app-json',
};

function caseRaws(): Fields[] {
  const raws: Fields[] = [];
  for (const file of readdirSync(CASES)) {
    const prefix = Object.keys(FORMAT_OF).find((p) => file.startsWith(p));
    if (prefix === undefined) continue;
    const parser = parserFor(FORMAT_OF[prefix]).create({ referenceTimeMs: Date.UTC(2026, 1, 2) });
    for (const [i, text] of readFileSync(new URL(file, CASES), 'utf8').split('\n').entries()) {
      const result = parser.parse({
        text,
        byteLength: text.length,
        position: { kind: 'stream', name: file, sequence: i },
        receivedAt: 0,
      });
      if (result.ok) for (const r of result.records) raws.push(r.raw);
    }
  }
  return raws;
}

function stepByStep(mapping: CompiledMapping, raw: Fields): Fields {
  const n: Fields = {};
  for (const [field, value] of mapping.statics) n[field] = value;
  for (const step of mapping.steps) {
    const v = applyStep(step, raw);
    if (v !== undefined) n[step.target] = v;
  }
  return n;
}

const AWKWARD: readonly unknown[] = [
  '',
  null,
  ' ',
  '443',
  '1769868799.213927',
  '2026-01-31T14:13:19Z',
  'Mixed.Case.',
  '::ffff:10.1.2.3',
  0,
  -1.5,
  1_769_868_799.213927,
  1_769_868_799_213,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  [],
  ['TCP', 'b'],
  [1, 2],
  { nested: 'x' },
];

/** Sets a raw path both as the flat (Zeek) key and as the nested (Suricata) path. */
function withPath(raw: Fields, path: string, value: unknown): Fields[] {
  const flat = { ...raw, [path]: value };
  const parts = path.replace('.*', '').split('.');
  const nested: Fields = { ...raw };
  let node = nested;
  for (let i = 0; i < parts.length - 1; i++) {
    const child: Fields = {};
    node[parts[i]] = child;
    node = child;
  }
  node[parts[parts.length - 1]] = value;
  return [flat, nested];
}

describe('generated mapping functions', () => {
  const mappings = [...loadMappings().values()];
  const raws = caseRaws();

  it('read the real case lines exactly as the steps do one by one', () => {
    assert.ok(raws.length > 50, `${raws.length} case records`);
    for (const mapping of mappings) {
      for (const raw of raws) {
        const n: Fields = {};
        mapping.apply(raw, n);
        const expected = stepByStep(mapping, raw);
        assert.deepEqual(n, expected, `${mapping.source}/${mapping.logType}`);
        assert.deepEqual(Object.keys(n), Object.keys(expected), `${mapping.source}/${mapping.logType}`);
      }
    }
  });

  it('treat every value type a raw field can hold as the steps do (strings, numbers, NaN, arrays, objects)', () => {
    const base = raws[0];
    for (const mapping of mappings) {
      for (const path of new Set(mapping.steps.flatMap((s) => s.paths))) {
        for (const value of AWKWARD) {
          for (const raw of withPath(base, path, value)) {
            const n: Fields = {};
            mapping.apply(raw, n);
            const label = `${mapping.source}/${mapping.logType} ${path}=${String(value)}`;
            assert.deepEqual(n, stepByStep(mapping, raw), label);
          }
        }
      }
    }
  });
});

describe('textOf (numbers to text in to_string and string fields)', () => {
  it('writes every number as String does: edges of the two-halves path and random values', () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      99_999_999,
      100_000_000,
      -100_000_000,
      100_000_001,
      199_999_999,
      1_234_567_800_000_001,
      2_171_488_461_347_855, // a Suricata flow_id
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 1,
      Number.MAX_SAFE_INTEGER - 99_999_999,
      1e16,
      1e21,
      123_456_789.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    for (const v of edges) assert.equal(textOf(v), String(v), String(v));
    for (let i = 0; i < 200_000; i++) {
      const magnitude = 10 ** Math.floor(Math.random() * 17);
      const v = Math.floor(Math.random() * magnitude) * (i % 2 === 0 ? 1 : -1);
      assert.equal(textOf(v), String(v));
      const high = Math.floor(Math.random() * 90_071_992) * 1e8;
      assert.equal(textOf(high + 99_999_999), String(high + 99_999_999));
    }
  });
  it('leaves other values to String', () => {
    for (const v of [true, 'x', null, undefined, 12n, [1, 2]]) assert.equal(textOf(v), String(v));
  });
});
