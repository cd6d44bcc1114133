import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../../../src/detect/sigma/load.ts';
import { capRegexInput, findNestedQuantifier, translatePcre } from '../../../src/detect/sigma/regex-guard.ts';
import { envelope } from './helpers.ts';

test('nested unbounded quantifiers and repeated alternations are found', () => {
  for (const bad of [
    '(a+)+$',
    '(a*)*b',
    '(?:.*\\)){1,}',
    '(\\w+\\s?){2,20}',
    '(a|aa)+$',
    '(a|a)*b',
    'x((ab)+c)+',
  ]) {
    assert.ok(findNestedQuantifier(bad), bad);
  }
});

test('ordinary patterns from SigmaHQ rules pass', () => {
  for (const ok of [
    '(?:\\s-[^-\\s]{0,20}i|\\s--inode\\s)',
    'https?://(?:(?:25[0-5]|(?:2[0-4]|1\\d|[1-9])?\\d)(?:\\.|\\b)){4}',
    '"(?:\\{\\d\\})+"\\s*-f',
    '-(W|R)\\s?(\\s|"|\')([0-9a-fA-F]{2}\\s?){2,20}(\\s|"|\')',
    '[(a+)+]',
    '\\(a+\\)+',
  ]) {
    assert.equal(findNestedQuantifier(ok), undefined, ok);
  }
});

test('PCRE spellings are translated: (?i) prefix, named groups, \\A and \\Z', () => {
  assert.deepEqual(translatePcre('(?i)abc', ''), { source: 'abc', flags: 'i' });
  assert.deepEqual(translatePcre('(?P<x>a)', 'm'), { source: '(?<x>a)', flags: 'm' });
  assert.deepEqual(translatePcre('\\Aabc\\z', ''), { source: '^abc$', flags: '' });
});

test('capRegexInput bounds the text a regex sees', () => {
  assert.equal(capRegexInput('abcdef', 3), 'abc');
  assert.equal(capRegexInput('ab', 3), 'ab');
});

test('a catastrophic rule is skipped with a problem and matching does not stall', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-redos-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rule = (id: string, re: string) =>
    `title: ${id}\nid: ${id}\nlogsource: {product: zeek, service: http}\ndetection:\n  sel:\n    uri|re: '${re}'\n  condition: sel\n`;
  writeFileSync(join(dir, 'redos.yml'), rule('redos', '^(a+)+$'));
  writeFileSync(join(dir, 'overlap.yml'), rule('overlap', '^(a|aa)+$'));
  // Polynomial (two .*) but allowed: the length cap bounds its cost.
  writeFileSync(join(dir, 'poly.yml'), rule('poly', 'a.*b.*c'));
  const set = loadRules([dir], { regexMaxLength: 1000 });
  assert.deepEqual(set.problems.map((p) => [p.rule_id, p.feature]).sort(), [
    ['overlap', 're (pathological)'],
    ['redos', 're (pathological)'],
  ]);
  const poly = set.rules.find((r) => r.id === 'poly')!;
  // 200,000 characters of the worst case input: finishes because only the first 1,000 are seen …
  assert.equal(poly.match(envelope('zeek', 'http', { uri: 'a'.repeat(200_000) })), false);
  // … which also means a match beyond the cap is not seen (the documented trade-off).
  assert.equal(poly.match(envelope('zeek', 'http', { uri: `${'x'.repeat(2000)}abc` })), false);
  assert.equal(poly.match(envelope('zeek', 'http', { uri: 'xxabc' })), true);
});
