/**
 * Malformed input at scale (short form, in npm test): 100_000 real Zeek JSON lines, half of them mutated
 * (truncated, flipped bytes, NUL bytes, wrong types, missing timestamps, doubled, non-JSON, arrays,
 * scalars, oversized, binary garbage, 5,000-deep nesting), through `socstream run`: no crash,
 * accepted + rejected = input, every DLQ line carries its reason and position.
 */
import { malformedTest } from '../helpers/malformed.ts';

malformedTest(100_000);
