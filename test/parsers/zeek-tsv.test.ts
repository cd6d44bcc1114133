import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParseResult } from '../../src/parsers/parser.ts';
import { zeekTsv } from '../../src/parsers/zeek-tsv.ts';

function feed(lines: string[], options = {}): ParseResult[] {
  const parser = zeekTsv.create(options);
  return lines.map((text, i) =>
    parser.parse({
      text,
      byteLength: text.length,
      position: { kind: 'stream', name: 't', sequence: i },
      receivedAt: 0,
    }),
  );
}

const HEADER = (path: string, fields: string[], types: string[]) => [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  `#path\t${path}`,
  '#open\t2024-04-12-19-29-12',
  `#fields\t${fields.join('\t')}`,
  `#types\t${types.join('\t')}`,
];

test('values are typed per #types; unset is absent, (empty) is [] or "", ts gives eventTimeMs', () => {
  const results = feed([
    ...HEADER(
      'dns',
      ['ts', 'uid', 'id.orig_p', 'rtt', 'AA', 'answers', 'TTLs', 'query', 'note'],
      [
        'time',
        'string',
        'port',
        'interval',
        'bool',
        'vector[string]',
        'vector[interval]',
        'string',
        'string',
      ],
    ),
    '1521911720.865716\tCq1\t41772\t0.000870\tT\ta.example,1.2.3.4\t2230.000000,41830.000000\t(empty)\t-',
    '1521911721.000000\tCq2\t53\t-\tF\t(empty)\t-\tx\\x09y\t\\x2d',
  ]);
  assert.equal(
    results.slice(0, 8).every((r) => r.ok && r.records.length === 0),
    true,
  );
  const [a, b] = results.slice(8);
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.records[0], {
    source: 'zeek',
    log_type: 'dns',
    eventTimeMs: 1521911720866,
    raw: {
      ts: 1521911720.865716,
      uid: 'Cq1',
      'id.orig_p': 41772,
      rtt: 0.00087,
      AA: true,
      answers: ['a.example', '1.2.3.4'],
      TTLs: [2230, 41830],
      query: '',
    },
  });
  assert.deepEqual(b.records[0].raw, {
    ts: 1521911721,
    uid: 'Cq2',
    'id.orig_p': 53,
    AA: false,
    answers: [],
    query: 'x\ty',
    note: '-',
  });
});

test('a new header block mid-stream replaces separator, fields, types and path', () => {
  const results = feed([
    ...HEADER('a', ['ts', 'n'], ['time', 'count']),
    '1.5\t7',
    '#separator |',
    '#set_separator|;',
    '#unset_field|NONE',
    '#path|b',
    '#fields|x|s',
    '#types|string|set[count]',
    'hello|1;2;3',
    'NONE|4',
  ]);
  const accepted = results.flatMap((r) => (r.ok ? r.records : []));
  assert.deepEqual(
    accepted.map((r) => [r.log_type, r.raw]),
    [
      ['a', { ts: 1.5, n: 7 }],
      ['b', { x: 'hello', s: [1, 2, 3] }],
      ['b', { s: [4] }],
    ],
  );
});

test('rejects: no header, field count mismatch, placeholder time, bad count, bad bool', () => {
  const reasons = feed([
    '1.0\tno header yet',
    ...HEADER('t', ['ts', 'c', 'b'], ['time', 'count', 'bool']),
    '1.0\t1',
    'XXXXXXXXXX.XXXXXX\t1\tT',
    '1.0\tmany\tT',
    '1.0\t1\tmaybe',
    '1.0\t1\tT',
  ]).map((r) => (r.ok ? (r.records.length ? 'ok' : 'skip') : r.reason));
  assert.deepEqual(reasons, [
    'no_header',
    ...Array(8).fill('skip'),
    'field_count_mismatch',
    'bad_timestamp',
    'bad_value',
    'bad_value',
    'ok',
  ]);
});

test('header-less logs parse when the fields are configured', () => {
  const [r] = feed(['XX|1.2.3.4|80'], {
    settings: { fields: ['t', 'h', 'p'], types: ['string', 'addr', 'port'], separator: '|', path: 'ssh' },
  });
  assert.ok(r.ok);
  assert.deepEqual(r.records[0], { source: 'zeek', log_type: 'ssh', raw: { t: 'XX', h: '1.2.3.4', p: 80 } });
});

test('escapes: \\\\ is a backslash, \\xNN below 0x80 decodes, invalid UTF-8 bytes stay as \\xNN text', () => {
  const [r] = feed([...HEADER('t', ['s'], ['string']), '\\\\pipe\\\\x\\x7c\\xffend']).slice(8);
  assert.ok(r.ok);
  assert.equal(r.records[0].raw.s, '\\pipe\\x|\\xffend');
});

test('field names come from the file: __proto__ stays an own data field, prototype untouched', () => {
  const [r] = feed([...HEADER('t', ['__proto__', 'x'], ['string', 'count']), 'polluted\t1']).slice(8);
  assert.ok(r.ok);
  const raw = r.records[0].raw;
  assert.equal(Object.getPrototypeOf(raw), Object.prototype);
  assert.deepEqual(Object.keys(raw), ['x', '__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(raw, '__proto__')?.value, 'polluted');
  assert.equal(JSON.stringify(raw), '{"x":1,"__proto__":"polluted"}');
});
