import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicsSchema } from '../../src/config/schema.ts';
import { prefixedTopics } from '../../src/config/topics.ts';

test('prefixedTopics puts every default topic name under the prefix, and validates as a topics section', () => {
  const t = prefixedTopics('run-1.', 3);
  const defaults = topicsSchema.parse({});
  for (const [key, value] of Object.entries(defaults)) {
    if (typeof value === 'string') assert.equal(t[key as keyof typeof t], `run-1.${value}`, key);
  }
  assert.equal(t.partitions, 3);
  assert.equal(prefixedTopics('x.').partitions, defaults.partitions);
  assert.deepEqual(topicsSchema.parse(t), t);
});
