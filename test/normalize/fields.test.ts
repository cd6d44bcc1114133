import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENRICHED_FIELDS, NORMALIZED_FIELDS, renderSchemaDoc } from '../../src/normalize/fields.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';

const DOC = new URL('../../docs/schema.md', import.meta.url);

describe('field dictionary', () => {
  it('docs/schema.md is generated from it (UPDATE_SCHEMA_DOC=1 rewrites it)', () => {
    if (process.env.UPDATE_SCHEMA_DOC === '1') writeFileSync(DOC, renderSchemaDoc());
    assert.equal(readFileSync(DOC, 'utf8'), renderSchemaDoc());
  });
  it('documents every field with a type and a description, no name in both layers', () => {
    const doc = readFileSync(DOC, 'utf8');
    for (const [name, spec] of Object.entries({ ...NORMALIZED_FIELDS, ...ENRICHED_FIELDS })) {
      assert.ok(spec.description.length > 5, name);
      assert.ok(doc.includes(`| \`${name}\` | ${spec.type} |`), `${name} missing from docs/schema.md`);
    }
    for (const name of Object.keys(ENRICHED_FIELDS)) assert.ok(!(name in NORMALIZED_FIELDS), name);
  });
  it('every canonical field a shipped mapping sets is in the dictionary (checked at load)', () => {
    const normalizer = createNormalizer();
    for (const logType of normalizer.logTypes()) {
      const [source, type] = logType.split('/');
      const mapping = normalizer.mappingFor(source, type)!;
      for (const step of mapping.steps)
        assert.ok(step.target in NORMALIZED_FIELDS, `${logType}: ${step.target}`);
    }
  });
});
