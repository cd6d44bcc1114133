import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zeekJson } from '../../src/parsers/zeek-json.ts';
import { feed, one, verdict } from './helpers.ts';

test('flat Zeek JSON: _path names the log type, ISO ts becomes epoch seconds, doubles round to µs', () => {
  const r = one(
    feed(zeekJson, [
      '{"_path":"dns","_write_ts":"2018-03-24T17:15:20.866586Z","ts":"2018-03-24T17:15:20.865716Z","uid":"C1","id.orig_h":"10.47.1.100","rtt":0.0008699893951416016,"AA":false,"TTLs":[2230.0,41830.0]}',
    ])[0],
  );
  assert.deepEqual(r, {
    source: 'zeek',
    log_type: 'dns',
    eventTimeMs: 1521911720866,
    raw: {
      _path: 'dns',
      _write_ts: 1521911720.866586,
      ts: 1521911720.865716,
      uid: 'C1',
      'id.orig_h': '10.47.1.100',
      rtt: 0.00087,
      AA: false,
      TTLs: [2230, 41830],
    },
  });
});

test('nested Kafka shape {"conn": {...}}: the outer key is the log type, epoch ts kept', () => {
  const r = one(
    feed(zeekJson, ['{"conn": {"ts": 1769868799.213927, "uid": "CfqDt", "id.orig_h": "10.128.0.4"}}'])[0],
  );
  assert.equal(r.log_type, 'conn');
  assert.deepEqual(r.raw, { ts: 1769868799.213927, uid: 'CfqDt', 'id.orig_h': '10.128.0.4' });
  assert.equal(r.eventTimeMs, 1769868799214);
});

test('nulls are dropped like TSV unset; without _path the configured log type is used', () => {
  const r = one(feed(zeekJson, ['{"ts":null,"msg":"Testing"}'], { logType: 'testing' })[0]);
  assert.deepEqual(r, { source: 'zeek', log_type: 'testing', raw: { msg: 'Testing' } });
});

test('\\xNN in JSON: non-printable control bytes decode, printable-control and high bytes stay text', () => {
  const r = one(feed(zeekJson, [String.raw`{"a":"\\x00\\x01","b":"\\x0d\\x0a","c":"\\xc3("}`])[0]);
  assert.deepEqual(r.raw, { a: '\u0000\u0001', b: '\\x0d\\x0a', c: '\\xc3(' });
});

test('rejects: Zeek placeholder timestamp (invalid JSON), ts that is not a time, non-object', () => {
  assert.deepEqual(
    feed(zeekJson, ['{"ts":XXXXXXXXXX.XXXXXX}', '{"ts":"yesterday"}', '[1]', '']).map(verdict),
    ['invalid_json', 'bad_timestamp', 'not_an_object', 'skip'],
  );
});

test('a "__proto__" key stays an own data field after conversion, the prototype untouched', () => {
  const r = one(feed(zeekJson, ['{"__proto__": ["2018-03-24T17:15:20.865716Z"], "x": "\\\\x01"}'])[0]);
  assert.equal(Object.getPrototypeOf(r.raw), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(r.raw, '__proto__')?.value, [1521911720.865716]);
  assert.equal(r.raw.x, '\u0001');
});
