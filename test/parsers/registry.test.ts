import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { FORMATS, PARSERS, parserFor, validateParserSettings } from '../../src/parsers/registry.ts';

test('every format is listed once, with a source family, a summary and a detector', () => {
  assert.deepEqual(FORMATS, [
    'zeek-tsv',
    'zeek-json',
    'suricata-eve',
    'sshd',
    'auth-json',
    'nginx',
    'kafka-log',
    'app-json',
    'threat-json',
    'container',
    'json',
  ]);
  assert.equal(new Set(FORMATS).size, FORMATS.length);
  for (const def of PARSERS) {
    assert.ok(def.source && def.summary, def.format);
    assert.equal(def.detect([]), 0, `${def.format} claims an empty sample`);
    assert.equal(def.create().format, def.format);
  }
});

test('parserFor: the definition, or a usage error listing the formats', () => {
  assert.equal(parserFor('nginx').format, 'nginx');
  assert.throws(
    () => parserFor('apache'),
    (err: unknown) => err instanceof UsageError && /zeek-tsv, zeek-json/.test(err.message),
  );
});

test('settings schemas are strict: a misspelt key is rejected', () => {
  for (const def of PARSERS) {
    if (!def.settings) continue;
    assert.equal(def.settings.safeParse({ not_a_setting: 1 }).success, false, def.format);
    assert.equal(def.settings.safeParse({}).success, true, def.format);
  }
});

test('config parsers.settings: validated once, errors name the file and the key path', () => {
  assert.deepEqual(validateParserSettings({ json: { time_field: 'when' } }, 'socstream.yaml'), {
    json: { time_field: 'when' },
  });
  assert.throws(
    () => validateParserSettings({ nginx: { log_fromat: '$remote_addr' } }, 'socstream.yaml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      /socstream\.yaml: parsers\.settings\.nginx/.test(err.message) &&
      /log_fromat/.test(err.message),
  );
  assert.throws(
    () => validateParserSettings({ apache: {} }, 'socstream.yaml'),
    (err: unknown) =>
      err instanceof ConfigError && /parsers\.settings\.apache: unknown format/.test(err.message),
  );
  assert.throws(() => validateParserSettings({ sshd: { x: 1 } }, 'c.yaml'), /takes no settings/);
});
