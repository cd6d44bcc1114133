import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameHint, parseFormatHint } from '../../src/core/format-hint.ts';

test("a format hint names a format, a configured log type (the user's word) and a name's log type (a hint)", () => {
  assert.deepEqual(parseFormatHint(undefined), {});
  assert.deepEqual(parseFormatHint('sshd'), { format: 'sshd' });
  assert.deepEqual(parseFormatHint('zeek-json:conn'), { format: 'zeek-json', logType: 'conn' });
  assert.deepEqual(parseFormatHint('json@firewall'), { format: 'json', nameLogType: 'firewall' });
  assert.deepEqual(parseFormatHint('auto@dns'), { nameLogType: 'dns' });
  // What file sources sent before names became hints: with `auto` nothing was configured.
  assert.deepEqual(parseFormatHint('auto:dns'), { nameLogType: 'dns' });
  assert.deepEqual(parseFormatHint('auto'), {});
  // A file stem may hold `@` or `:`; the format never does.
  assert.deepEqual(parseFormatHint('auto@conn@host'), { nameLogType: 'conn@host' });
});

test('nameHint: a configured log type wins over the name; without a name the format as given', () => {
  assert.equal(nameHint(undefined, 'dns'), 'auto@dns');
  assert.equal(nameHint('json', 'firewall'), 'json@firewall');
  assert.equal(nameHint('json:fw', 'firewall'), 'json:fw');
  assert.equal(nameHint('sshd', undefined), 'sshd');
  assert.equal(nameHint(undefined, undefined), undefined);
  for (const [format, name] of [
    [undefined, 'conn'],
    ['zeek-json', 'dns'],
  ] as const) {
    const parsed = parseFormatHint(nameHint(format, name));
    assert.equal(parsed.format, format);
    assert.equal(parsed.nameLogType, name);
    assert.equal(parsed.logType, undefined);
  }
});
