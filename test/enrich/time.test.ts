import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fields } from '../../src/core/envelope.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { createTimeEnricher } from '../../src/enrich/time.ts';

function parts(ms: number, zone: string): Fields {
  const e: Fields = {};
  createTimeEnricher(zone).apply({ event_time: ms }, e);
  return e;
}

describe('time enrichment', () => {
  it('splits the seed DNS example time in UTC', () => {
    // 1769868799213 = 2026-01-31T14:13:19.213Z, a Saturday.
    assert.deepEqual(parts(1_769_868_799_213, 'UTC'), {
      event_year: 2026,
      event_month: 1,
      event_day: 31,
      event_hour: 14,
      event_weekday: 6,
    });
  });
  it('uses the configured zone across a date line (Sunday in UTC is Monday in Tokyo)', () => {
    const ms = Date.UTC(2026, 1, 1, 20, 30); // Sunday 20:30 UTC
    assert.equal(parts(ms, 'UTC').event_weekday, 7);
    assert.deepEqual(parts(ms, 'Asia/Tokyo'), {
      event_year: 2026,
      event_month: 2,
      event_day: 2,
      event_hour: 5,
      event_weekday: 1,
    });
  });
  it('gives each event its own hour and day when one enricher sees events across boundaries', () => {
    const enricher = createTimeEnricher('UTC');
    const times = [
      Date.UTC(2026, 1, 1, 23, 59, 59, 999),
      Date.UTC(2026, 1, 2, 0, 0, 0, 0),
      Date.UTC(2026, 1, 1, 23, 0, 0, 0), // late event: back into the previous hour
      Date.UTC(2026, 1, 2, 0, 30),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999), // before the epoch
    ];
    for (const ms of times) {
      const e: Fields = {};
      enricher.apply({ event_time: ms }, e);
      const d = new Date(ms);
      assert.deepEqual(e, {
        event_year: d.getUTCFullYear(),
        event_month: d.getUTCMonth() + 1,
        event_day: d.getUTCDate(),
        event_hour: d.getUTCHours(),
        event_weekday: d.getUTCDay() === 0 ? 7 : d.getUTCDay(),
      });
    }
  });
  it('does nothing without an event_time', () => {
    const e: Fields = {};
    createTimeEnricher('UTC').apply({}, e);
    assert.deepEqual(e, {});
  });
  it('rejects an unknown zone as a config error', () => {
    assert.throws(() => createTimeEnricher('Mars/Olympus'), ConfigError);
  });
});
