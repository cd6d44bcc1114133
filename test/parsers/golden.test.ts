/**
 * Golden tests: for every parser, real lines (test/fixtures/parsers/<format>/<case>.in.log, origins
 * in SOURCES.md there) with every field of every result asserted against <case>.out.json.
 * `UPDATE_GOLDEN=1` rewrites the .out.json files instead of comparing; review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ParserOptions } from '../../src/parsers/parser.ts';
import { PARSERS, parserFor } from '../../src/parsers/registry.ts';

const FIXTURES = new URL('../fixtures/parsers/', import.meta.url).pathname;
const UPDATE = process.env.UPDATE_GOLDEN === '1';
// RFC 3164 lines carry no year; a fixed reference time keeps the inferred year stable.
const REFERENCE_TIME_MS = Date.UTC(2026, 10, 23);
/** Each format needs at least this many accepted golden lines. */
const MIN_ACCEPTED = 5;

function runCase(format: string, inFile: string, options: ParserOptions): unknown[] {
  const parser = parserFor(format).create({ referenceTimeMs: REFERENCE_TIME_MS, ...options });
  const lines = readFileSync(inFile, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const verdicts: unknown[] = lines.map((text, i) => {
    const result = parser.parse({
      text,
      byteLength: Buffer.byteLength(text),
      position: { kind: 'stream', name: 'golden', sequence: i + 1 },
      receivedAt: REFERENCE_TIME_MS,
    });
    return { line: i + 1, ...result };
  });
  // What a parser still holds at the end of the input (kafka-log's last WARN/ERROR).
  const held = parser.flush?.();
  if (held?.ok && held.records.length > 0) verdicts.push({ line: 'end', ...held });
  return verdicts;
}

describe('golden parser fixtures', () => {
  for (const def of PARSERS) {
    const dir = `${FIXTURES}${def.format}/`;
    test(`${def.format}: every field of every golden line matches`, () => {
      assert.ok(existsSync(dir), `no golden fixtures for ${def.format}`);
      const cases = readdirSync(dir).filter((f) => f.endsWith('.in.log'));
      let accepted = 0;
      for (const file of cases) {
        const name = file.slice(0, -'.in.log'.length);
        const optionsFile = `${dir}${name}.options.json`;
        const options = existsSync(optionsFile)
          ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as ParserOptions)
          : {};
        const actual = JSON.parse(JSON.stringify(runCase(def.format, `${dir}${file}`, options))) as Array<{
          ok: boolean;
          records?: unknown[];
        }>;
        const outFile = `${dir}${name}.out.json`;
        if (UPDATE) writeFileSync(outFile, `${JSON.stringify(actual, null, 2)}\n`);
        assert.ok(existsSync(outFile), `${outFile} missing: run with UPDATE_GOLDEN=1 and review`);
        assert.deepEqual(actual, JSON.parse(readFileSync(outFile, 'utf8')), `${def.format}/${name}`);
        for (const r of actual) if (r.ok) accepted += r.records?.length ?? 0;
      }
      assert.ok(accepted >= MIN_ACCEPTED, `${def.format}: only ${accepted} accepted golden lines`);
    });
  }
});
