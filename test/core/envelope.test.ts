import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Envelope, eventTimeOf } from '../../src/core/envelope.ts';

function env(normalized: Record<string, unknown>): Envelope {
  return { id: 'x', source: 'zeek', log_type: 'conn', raw: {}, normalized, enriched: {} };
}

test('eventTimeOf: event_time, else ingest_time, else the fallback', () => {
  assert.equal(eventTimeOf(env({ event_time: 1769868799213, ingest_time: 5 }), 9), 1769868799213);
  assert.equal(eventTimeOf(env({ ingest_time: 1770089817352 }), 9), 1770089817352);
  assert.equal(eventTimeOf(env({ event_time: Number.NaN, ingest_time: '5' }), 9), 9);
  assert.equal(eventTimeOf(env({}), 9), 9);
});
