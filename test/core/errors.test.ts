import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CLASSES, ERROR_CODES, EXIT } from '../../src/core/errors.ts';

test('every error class carries its static code on each instance', () => {
  for (const Cls of ERROR_CLASSES) {
    const e = new Cls('x');
    assert.equal(e.code, Cls.code, Cls.name);
    assert.ok(ERROR_CODES.includes(e.code));
  }
});

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of ERROR_CODES)
    assert.match(doc, new RegExp(`\\b${code}\\b`), `${code} missing from docs/errors.md`);
});

test('config and usage errors exit 2, runtime errors exit 1', () => {
  const byCode = new Map(ERROR_CLASSES.map((C) => [C.code, new C('x').exitCode]));
  assert.equal(byCode.get('SOC_CONFIG_INVALID'), EXIT.usage);
  assert.equal(byCode.get('SOC_USAGE'), EXIT.usage);
  assert.equal(byCode.get('SOC_KAFKA_UNREACHABLE'), EXIT.runtime);
});

test('src/ throws no plain Error: every error carries a code from the catalogue', () => {
  const root = new URL('../../', import.meta.url);
  const plain: string[] = [];
  for (const file of globSync('src/**/*.{ts,tsx}', { cwd: root })) {
    readFileSync(new URL(file, root), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\bnew Error\(/.test(line)) plain.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(plain, [], 'use a class from src/core/errors.ts');
});
