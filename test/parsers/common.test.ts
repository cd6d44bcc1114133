import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isoToEpochMicros,
  jsonEventTime,
  looksBinary,
  parseJsonObject,
  timeValueToMs,
} from '../../src/parsers/common.ts';

test('ISO 8601: Zeek Z, Suricata +0100, RFC 3339 +01:00, no offset (UTC), space and comma, pre-1970', () => {
  const cases: Array<[string, number]> = [
    ['2018-03-24T17:15:20.865716Z', 1521911720865716],
    ['2017-01-30T16:12:26.985026+0100', Date.UTC(2017, 0, 30, 15, 12, 26) * 1000 + 985026],
    ['2023-11-14T00:20:42.738197+01:00', Date.UTC(2023, 10, 13, 23, 20, 42) * 1000 + 738197],
    ['2019-06-14T10:40:20.912134', Date.UTC(2019, 5, 14, 10, 40, 20) * 1000 + 912134],
    ['2024-02-29 01:02:03,5', Date.UTC(2024, 1, 29, 1, 2, 3) * 1000 + 500000],
    ['2020-01-01T00:00:00+05', Date.UTC(2019, 11, 31, 19) * 1000],
    ['1901-11-09T17:49:10.310305Z', -2150431849689695],
    ['1969-12-31T23:59:59.500000Z', -500000],
    ['2020-01-01T00:00:00.1234567Z', Date.UTC(2020, 0, 1) * 1000 + 123457],
  ];
  for (const [text, micros] of cases) assert.equal(isoToEpochMicros(text), micros, text);
});

test('ISO 8601: garbage, impossible fields and trailing text are not timestamps', () => {
  for (const text of [
    '2017-01-30T16:12:26.985026+0100asloefbnjhowebfg',
    '2017-13-01T00:00:00Z',
    '2017-01-01T24:00:00Z',
    '2020-01-01T00:00:00.Z',
    'XXXXXXXXXX.XXXXXX',
    '',
    '2020-01-01',
  ]) {
    assert.equal(isoToEpochMicros(text), undefined, text);
  }
});

test('time values: ISO strings, epoch seconds, epoch milliseconds above 1e11, numeric strings', () => {
  assert.equal(timeValueToMs('2026-01-31T10:00:00Z'), Date.UTC(2026, 0, 31, 10));
  assert.equal(timeValueToMs(1769853600), 1769853600000);
  assert.equal(timeValueToMs(1769853600123), 1769853600123);
  assert.equal(timeValueToMs('1769853600.5'), 1769853600500);
  assert.equal(timeValueToMs('yesterday'), undefined);
  assert.equal(timeValueToMs(Number.NaN), undefined);
  assert.equal(timeValueToMs(null), undefined);
});

test('JSON lines: an object, or a verdict for blank, invalid, non-object and binary input', () => {
  assert.deepEqual(parseJsonObject(' {"a": 1}').value, { a: 1 });
  assert.equal(parseJsonObject('   ').verdict?.ok, true);
  assert.deepEqual(parseJsonObject('{"a": ').verdict?.ok, false);
  const reasons = ['{"a": ', '[1, 2]', '42', 'garbage', '\u0000\u0001\u0002'].map((t) => {
    const v = parseJsonObject(t).verdict;
    return v && !v.ok ? v.reason : undefined;
  });
  assert.deepEqual(reasons, [
    'invalid_json',
    'not_an_object',
    'not_an_object',
    'invalid_json',
    'binary_data',
  ]);
});

test('binary detection: NUL bytes or mostly U+FFFD, not ordinary text with an odd byte', () => {
  assert.equal(looksBinary('abc\u0000def'), true);
  assert.equal(looksBinary('\ufffd'.repeat(20)), true);
  assert.equal(looksBinary('Gh0st request \ufffd then text that goes on for a while'), false);
});

test('jsonEventTime: the first time key present decides; none is no time; a bad value is a reject naming it', () => {
  const keys = ['timestamp', 'time', 'ts'];
  assert.equal(jsonEventTime({ user: 'a' }, keys), undefined);
  assert.equal(
    jsonEventTime({ time: '2024-01-02T03:04:05Z', ts: 'garbage' }, keys),
    Date.UTC(2024, 0, 2, 3, 4, 5),
  );
  assert.equal(jsonEventTime({ ts: 1_700_000_000.5 }, keys), 1_700_000_000_500);
  assert.deepEqual(jsonEventTime({ timestamp: 'XXXXXXXXXX.XXXXXX' }, keys), {
    ok: false,
    reason: 'bad_timestamp',
    detail: 'timestamp=XXXXXXXXXX.XXXXXX',
  });
  // An object or null under a time key is not a time key's value: the next key is tried.
  assert.equal(jsonEventTime({ timestamp: null, time: 0 }, keys), 0);
});
