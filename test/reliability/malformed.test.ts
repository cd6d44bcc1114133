/**
 * Malformed input at scale (full form, npm run test:reliability): 1_000_000 real Zeek JSON lines, half of them mutated
 * (truncated, flipped bytes, NUL bytes, wrong types, missing timestamps, doubled, non-JSON, arrays,
 * scalars, oversized, binary garbage, 5,000-deep nesting), through `socstream run`: no crash,
 * accepted + rejected = input, every DLQ line carries its reason and position.
 */
import { malformedTest } from '../helpers/malformed.ts';

malformedTest(1_000_000);
