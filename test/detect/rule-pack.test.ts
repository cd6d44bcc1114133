import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatOutcomes, runRuleFixtures } from '../../src/cli/rules-test.ts';
import { detectSchema } from '../../src/config/schema.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;

test('every bundled rule fires on its positive fixture and stays silent on its negative one', async () => {
  const outcomes = await runRuleFixtures(RULES, detectSchema.parse({}));
  const report = formatOutcomes(outcomes);
  assert.equal(outcomes.length, 20, report);
  for (const o of outcomes) {
    assert.deepEqual(o.failures, [], `${o.name}\n${report}`);
    assert.ok(o.ruleIds.length > 0, o.name);
  }
});

test('the bundled pack loads without a single problem: 21 rules, 13 correlations, every reference resolved', async () => {
  const { loadRules } = await import('../../src/detect/sigma/load.ts');
  const { compilePlan } = await import('../../src/detect/correlate/plan.ts');
  const set = loadRules([RULES]);
  assert.deepEqual(set.problems, []);
  assert.equal(set.rules.length, 21);
  assert.equal(set.correlations.length, 13);
  const plan = compilePlan(set.rules, set.correlations, { maxGroupsPerRule: 10, maxEventIds: 10 });
  assert.deepEqual(plan.problems, []);
  assert.equal(plan.correlators.length, 13);
  // Building blocks feed correlations only; detections alert.
  const byName = new Map(set.rules.map((r) => [r.name ?? r.id, r.id]));
  assert.equal(plan.alerts(byName.get('auth_failed_login') as string), false);
  assert.equal(plan.alerts(byName.get('conn_unanswered') as string), false);
  const bf = set.correlations.find((c) => c.doc.name === 'brute_force_from_source');
  assert.equal(
    plan.alerts(bf?.doc.id as string),
    true,
    'declares its own level, so it alerts and feeds its parent',
  );
});
