import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigDoc } from '../../scripts/gen-config-doc.ts';

test('docs/config.md is generated from the current schema (run node scripts/gen-config-doc.ts)', () => {
  const onDisk = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.ok(
    onDisk === renderConfigDoc(),
    'docs/config.md is stale: a schema changed. Regenerate it with `node scripts/gen-config-doc.ts` and commit it',
  );
});

test('docs/config.md documents every top-level section', () => {
  const doc = renderConfigDoc();
  for (const section of [
    'bus.',
    'topics.',
    'enrich.',
    'detect.',
    'alerts.',
    'lake.',
    'alert_store.',
    'dlq.',
    'serve.',
  ])
    assert.ok(doc.includes(`| \`${section}`), section);
});

test('docs/config.md: every key has a meaning and appears once', () => {
  // The key table (the components' tables below it repeat per-type keys such as `name`).
  const keyRows = renderConfigDoc()
    .split('## Components')[0]
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  const keys = keyRows.map((l) => l.split(' | ')[0]);
  assert.deepEqual(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'keys listed twice',
  );
  assert.deepEqual(
    keyRows.filter((l) => l.endsWith('|  |')),
    [],
    'keys without a .describe() text in src/config/schema.ts',
  );
});

test('docs/config.md lists every registered component with its summary', async () => {
  const { REGISTRIES } = await import('../../src/components.ts');
  const doc = renderConfigDoc();
  for (const registry of Object.values(REGISTRIES))
    for (const def of registry.all())
      assert.ok(doc.includes(`| \`${def.type}\` | `) && doc.includes(def.summary), def.type);
});
