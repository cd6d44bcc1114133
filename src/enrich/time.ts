import type { Fields } from '../core/envelope.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * Time parts of event_time: event_year, event_month (1..12), event_day, event_hour and
 * event_weekday (ISO: 1 Monday .. 7 Sunday) in the configured IANA zone. UTC uses the Date UTC
 * getters (fast path); other zones go through one Intl.DateTimeFormat built at start.
 */
export interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  weekday: number;
}

const WEEKDAY: Readonly<Record<string, number>> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Time parts of an epoch ms; the result may be shared between calls (read it, do not modify it). */
export type TimePartsFn = (epochMs: number) => Readonly<TimeParts>;

export function createTimeParts(timeZone: string): TimePartsFn {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') {
    // Every part here changes only on a UTC hour boundary (multiples of 3,600,000 ms since the
    // epoch), and events come in time order: the parts of the last hour seen are reused (the
    // returned object is shared and must not be modified).
    let cachedHour = Number.NaN;
    let cached: TimeParts = { year: 0, month: 0, day: 0, hour: 0, weekday: 0 };
    return (ms) => {
      const hour = Math.floor(ms / 3_600_000);
      if (hour === cachedHour) return cached;
      const d = new Date(ms);
      const weekday = d.getUTCDay();
      cached = {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hour: d.getUTCHours(),
        weekday: weekday === 0 ? 7 : weekday,
      };
      cachedHour = hour;
      return cached;
    };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      weekday: 'short',
      hourCycle: 'h23',
    });
  } catch {
    throw new ConfigError(
      `enrich.timezone: "${timeZone}" is not an IANA time zone; use e.g. UTC or Europe/Berlin`,
    );
  }
  return (ms) => {
    const parts: TimeParts = { year: 0, month: 0, day: 0, hour: 0, weekday: 0 };
    for (const p of format.formatToParts(ms)) {
      if (p.type === 'weekday') parts.weekday = WEEKDAY[p.value] ?? 0;
      else if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour') {
        parts[p.type] = Number(p.value);
      }
    }
    return parts;
  };
}

export function createTimeEnricher(timeZone: string): { apply(normalized: Fields, enriched: Fields): void } {
  const partsOf = createTimeParts(timeZone);
  return {
    apply(normalized, enriched) {
      const ms = normalized.event_time;
      if (typeof ms !== 'number' || !Number.isFinite(ms)) return;
      const p = partsOf(ms);
      enriched.event_year = p.year;
      enriched.event_month = p.month;
      enriched.event_day = p.day;
      enriched.event_hour = p.hour;
      enriched.event_weekday = p.weekday;
    },
  };
}
