/**
 * Malformed input at scale (full form, npm run test:reliability): 1_000_000 real Zeek JSON lines, half of them mutated
 * (truncated, flipped bytes, NUL bytes, wrong types, missing timestamps, doubled, non-JSON, arrays,
 * scalars, oversized, binary garbage, 5,000-deep nesting), through `socstream run`: no crash,
 * accepted + rejected = input, every DLQ line carries its reason and position.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataMissing, malformedScenario } from '../helpers/malformed.ts';

const SKIP = dataMissing();
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const LINES = 1_000_000;

test(`${LINES} mutated lines: no crash, accepted + rejected = input, every reject in the DLQ with its reason`, {
  skip: SKIP,
}, async () => {
  const f = await malformedScenario(LINES);
  process.stderr.write(`malformed: ${JSON.stringify(f)}\n`);
  assert.equal(f.exitCode, 0);
  assert.ok(f.rejected > 0 && f.accepted > 0);
  assert.equal(f.accepted + f.rejected, LINES);
});
