import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdStopSignals, releaseStopSignals } from '../../src/cli/early-signals.ts';

test('stop signals held during start-up: the first is remembered and handed over on release, no handler stays', () => {
  const before = process.listenerCount('SIGTERM');
  holdStopSignals();
  holdStopSignals(); // main.ts and run.ts both hold: one handler
  assert.equal(process.listenerCount('SIGTERM'), before + 1);
  assert.equal(process.listenerCount('SIGINT') >= 1, true);
  process.emit('SIGTERM', 'SIGTERM');
  assert.equal(releaseStopSignals(), 'SIGTERM');
  assert.equal(process.listenerCount('SIGTERM'), before);
  // Released: nothing held, nothing remembered.
  assert.equal(releaseStopSignals(), null);
});

test('no signal during start-up: release hands over nothing', () => {
  holdStopSignals();
  assert.equal(releaseStopSignals(), null);
});
