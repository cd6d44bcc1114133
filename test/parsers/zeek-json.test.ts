import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it, test } from 'node:test';
import type { InputRecord } from '../../src/core/envelope.ts';
import { logTypeFromFileName, zeekJson } from '../../src/parsers/zeek-json.ts';
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

describe('Zeek JSON without _path (files as Zeek writes them)', () => {
  const DIR = new URL('../../../shared/data/zeek-json/wrccdc2018-zeek6.2/', import.meta.url).pathname;
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  const COMMON = new Set([
    '_write_ts',
    'ts',
    'uid',
    'id.orig_h',
    'id.orig_p',
    'id.resp_h',
    'id.resp_p',
    'proto',
  ]);
  /** WRCCDC lines with `_path` taken out, and what it said. */
  function stripped(file: string): Array<{ text: string; path: string }> {
    return readFileSync(`${DIR}${file}`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const o = JSON.parse(l);
        const path = o._path as string;
        delete o._path;
        return { text: JSON.stringify(o), path };
      });
  }
  function typesOf(lines: string[], position: (i: number) => InputRecord['position']): string[] {
    const p = zeekJson.create({});
    return lines.map((text, i) => {
      const r = p.parse({ text, byteLength: text.length, position: position(i), receivedAt: 0 });
      return r.ok && r.records.length === 1 ? r.records[0].log_type : 'reject';
    });
  }

  it('takes the log type from the file name, rotated names included', () => {
    assert.equal(logTypeFromFileName('/var/log/zeek/current/conn.log'), 'conn');
    assert.equal(logTypeFromFileName('/nsm/zeek/logs/2026-03-14/conn.16:00:00-17:00:00.log.gz'), 'conn');
    assert.equal(logTypeFromFileName('dns.2026-03-14-16-00-00.log'), 'dns');
    assert.equal(logTypeFromFileName('/tmp/mylog.log'), undefined, 'a custom name proves nothing');
    for (const file of files) {
      const lines = stripped(file);
      const name = `/var/log/zeek/${lines[0].path}.16:00:00-17:00:00.log`;
      const types = typesOf(
        lines.map((l) => l.text),
        (i) => ({ kind: 'file', path: name, fileId: 'f', offset: i }),
      );
      assert.deepEqual([...new Set(types)], [lines[0].path], file);
    }
  });

  it("a name is a hint for Zeek-shaped lines only: EVE and app JSON in a Zeek-named file stay unknown, a configured type is the user's word", () => {
    const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
    const eve = readFileSync(`${DATA}suricata/surevego/eve.json`, 'utf8').split('\n').filter(Boolean);
    const zeek = stripped('dns.json').slice(0, 20);
    const loaded = stripped('loaded_scripts.json').slice(0, 3);
    const named = zeekJson.create({ nameLogType: 'dns' });
    const typeOf = (parser: ReturnType<typeof zeekJson.create>, text: string, path = '/logs/all.log') => {
      const r = parser.parse({
        text,
        byteLength: text.length,
        position: { kind: 'file', path, fileId: 'f', offset: 0 },
        receivedAt: 0,
      });
      return r.ok && r.records.length === 1 ? r.records[0].log_type : 'reject';
    };
    assert.deepEqual([...new Set(zeek.map((l) => typeOf(named, l.text)))], ['dns']);
    assert.deepEqual(
      [...new Set(eve.map((l) => typeOf(named, l)))],
      ['unknown'],
      'EVE lines: not Zeek records',
    );
    // By the file's own name too (the position), and loaded_scripts, the one stream without ts.
    const plain = zeekJson.create({});
    assert.deepEqual([...new Set(eve.map((l) => typeOf(plain, l, '/var/log/zeek/dns.log')))], ['unknown']);
    assert.deepEqual(
      [...new Set(loaded.map((l) => typeOf(plain, l.text, '/var/log/zeek/loaded_scripts.log')))],
      ['loaded_scripts'],
    );
    // A name that is no Zeek stream proves nothing; the record's fields still type it.
    const custom = zeekJson.create({ nameLogType: 'all' });
    assert.deepEqual([...new Set(zeek.map((l) => typeOf(custom, l.text)))], ['dns']);
    // A configured log type (`--format zeek-json:conn`) is taken for every line.
    assert.equal(typeOf(zeekJson.create({ logType: 'conn' }), eve[0]), 'conn');
  });

  it('without a name (stdin, Kafka) infers it from the fields: every WRCCDC type but the ones with no telling field', () => {
    const wrong: string[] = [];
    let total = 0;
    for (const file of files) {
      const lines = stripped(file);
      const types = typesOf(
        lines.map((l) => l.text),
        (i) => ({ kind: 'stream', name: 'stdin', sequence: i }),
      );
      types.forEach((t, i) => {
        total++;
        // known_*, loaded_scripts, packet_filter, stats carry no field only they have: `unknown` is
        // honest there; a wrong type is not.
        const bare = Object.keys(JSON.parse(lines[i].text)).every((k) => COMMON.has(k));
        if (t === 'unknown' && bare) return; // only ts, uid and the conn id: nothing tells
        if (
          t !== lines[i].path &&
          !(t === 'unknown' && /^(known_|loaded_|packet_|stats|analyzer)/.test(lines[i].path))
        )
          wrong.push(`${file}: ${t} for ${lines[i].path}`);
      });
    }
    assert.ok(total > 15_000);
    assert.deepEqual([...new Set(wrong)], []);
  });
});
