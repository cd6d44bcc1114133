import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quoteIdent, sqlString } from '../../src/core/sql.ts';

test('sqlString doubles single quotes and wraps the text', () => {
  assert.equal(sqlString("o'brien"), "'o''brien'");
  assert.equal(sqlString("'; DROP TABLE x; --"), "'''; DROP TABLE x; --'");
  assert.equal(sqlString(''), "''");
});

test('quoteIdent doubles double quotes and wraps the name', () => {
  assert.equal(quoteIdent('id.orig_h'), '"id.orig_h"');
  assert.equal(quoteIdent('a"b'), '"a""b"');
});
