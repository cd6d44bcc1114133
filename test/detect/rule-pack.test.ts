import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatOutcomes, runRuleFixtures } from '../../src/cli/rules-test.ts';
import { detectSchema } from '../../src/config/schema.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;

test('every bundled rule fires on its positive fixture and stays silent on its negative one', async () => {
  const outcomes = await runRuleFixtures(RULES, detectSchema.parse({}));
  const report = formatOutcomes(outcomes);
  assert.equal(outcomes.length, 18, report);
  for (const o of outcomes) {
    assert.deepEqual(o.failures, [], `${o.name}\n${report}`);
    assert.ok(o.ruleIds.length > 0, o.name);
  }
});
