import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/core/errors.ts';
import { validateSourceConfig } from '../../src/pipeline/validate-source.ts';

const yaml = `
sources:
  - type: file
    paths: [/var/log/zeek/current/*.log]
    start_at: end
  - type: file
    paths: [/var/log/auth.log]
    strat_at: end
  - type: file
    paths: []
    max_line_bytes: -1
  - type: carrier_pigeon
`;
const sources = parseYaml(yaml).sources as unknown[];

test('a valid file entry parses with defaults applied', () => {
  const config = validateSourceConfig(sources[0], 0, 'socstream.yaml');
  assert.equal(config.start_at, 'end');
  assert.equal(config.max_line_bytes, 1_048_576);
});

test('an unknown key names sources[i], the key, the file and the fix', () => {
  assert.throws(
    () => validateSourceConfig(sources[1], 1, 'socstream.yaml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      /socstream\.yaml: sources\[1\]: .*strat_at/.test(err.message) &&
      /Fix: remove "strat_at"/.test(err.message),
  );
});

test('every bad value is reported with its own path', () => {
  assert.throws(
    () => validateSourceConfig(sources[2], 2, 'socstream.yaml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message.includes('sources[2].paths') &&
      err.message.includes('sources[2].max_line_bytes'),
  );
});

test('an unknown type lists the known types', () => {
  assert.throws(
    () => validateSourceConfig(sources[3], 3, 'socstream.yaml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message.includes('sources[3].type: unknown source type "carrier_pigeon"') &&
      err.message.includes('"file"'),
  );
});
