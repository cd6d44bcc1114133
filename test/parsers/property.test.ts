/**
 * Property tests: no input, random or a mutation of a real line, makes any parser throw. Each
 * parser instance sees a long stream of such lines (state such as a Zeek header carries over).
 * A verdict is always well-formed: ok with records, ok+skipped, or a reject with a known reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { REJECT_REASONS } from '../../src/parsers/common.ts';
import { PARSERS } from '../../src/parsers/registry.ts';

const FIXTURES = new URL('../fixtures/parsers/', import.meta.url).pathname;
const REASONS = new Set<string>(REJECT_REASONS);

/** Real lines from every golden fixture: the seeds the mutations start from. */
const REAL_LINES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(`${FIXTURES}${d.name}`)
      .filter((f) => f.endsWith('.in.log'))
      .flatMap((f) => readFileSync(`${FIXTURES}${d.name}/${f}`, 'utf8').split('\n')),
  );

/** A real line cut, spliced, with characters replaced or inserted: realistic corruption. */
const mutatedLine = fc
  .tuple(
    fc.constantFrom(...REAL_LINES),
    fc.nat(),
    fc.nat(),
    fc.oneof(
      fc.string(),
      fc.constantFrom('\u0000', '\ufffd', '"', '{', '}', '\t', '\\x', '#', '-', '(empty)'),
    ),
    fc.constantFrom('cut', 'insert', 'replace', 'truncate-json'),
  )
  .map(([line, a, b, s, op]) => {
    const i = line.length === 0 ? 0 : a % line.length;
    const j = line.length === 0 ? 0 : b % line.length;
    switch (op) {
      case 'cut':
        return line.slice(0, Math.min(i, j)) + line.slice(Math.max(i, j));
      case 'insert':
        return line.slice(0, i) + s + line.slice(i);
      case 'replace':
        return line.slice(0, i) + s + line.slice(i + s.length);
      default:
        return line.slice(0, i);
    }
  });

const anyLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 300 }),
  fc.json(),
  mutatedLine,
);

for (const def of PARSERS) {
  test(`${def.format}: random and mutated lines never throw and always give a well-formed verdict`, () => {
    fc.assert(
      fc.property(fc.array(anyLine, { minLength: 1, maxLength: 40 }), (lines) => {
        const parser = def.create({ referenceTimeMs: Date.UTC(2026, 0, 1) });
        for (let i = 0; i < lines.length; i++) {
          const r = parser.parse({
            text: lines[i],
            byteLength: Buffer.byteLength(lines[i]),
            position: { kind: 'stream', name: 'prop', sequence: i },
            receivedAt: 0,
          });
          if (r.ok) {
            assert.ok(Array.isArray(r.records));
            for (const rec of r.records) {
              assert.equal(typeof rec.log_type, 'string');
              assert.equal(typeof rec.raw, 'object');
              if (rec.eventTimeMs !== undefined) assert.ok(Number.isFinite(rec.eventTimeMs));
            }
          } else {
            assert.ok(REASONS.has(r.reason), `unknown reject reason ${r.reason}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
}
