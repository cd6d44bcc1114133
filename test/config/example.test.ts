import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/loader.ts';
import { validateSourceConfig } from '../../src/pipeline/validate-source.ts';

const EXAMPLE = new URL('../../config/socstream.example.yaml', import.meta.url).pathname;

test('config/socstream.example.yaml is valid, sources included', () => {
  const config = loadConfig(EXAMPLE, { env: {} });
  assert.equal(config.bus.type, 'kafka');
  for (const [i, s] of config.sources.entries()) validateSourceConfig(s, i, EXAMPLE);
  const kafka = config.sources.find((s) => s.type === 'kafka') as unknown as { topics: string[] };
  assert.deepEqual(kafka.topics, ['threat-events', 'auth_events', 'zeek-raw']);
});
