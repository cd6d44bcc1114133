import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DuckDBConnection, DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import type { Envelope } from '../../../src/core/envelope.ts';
import { quoteIdent } from '../../../src/core/sql.ts';
import {
  bufferSqlType,
  CHUNK_ROWS,
  ChunkBuilder,
  ChunkEncoder,
  ColumnIndex,
  chunkTypes,
} from '../../../src/sinks/parquet/columns.ts';
import { buildLakeSchema } from '../../../src/sinks/parquet/schema.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
after(() => {
  connection.closeSync();
  instance.closeSync();
});

let tables = 0;

/** Builds, encodes and appends `envelopes` (one or more chunks) and reads the table back by id. */
async function roundTrip(
  envelopes: Envelope[],
  typedRaw = false,
): Promise<Map<string, Record<string, unknown>>> {
  const builder = new ChunkBuilder(new ColumnIndex(buildLakeSchema()), typedRaw);
  const encoder = new ChunkEncoder();
  const sealed = [];
  for (const env of envelopes) {
    builder.add(env, 7);
    if (builder.full) sealed.push(builder.sealChunk());
  }
  if (builder.rows > 0) sealed.push(builder.sealChunk());
  const table = `t${++tables}`;
  const defs = builder.columns.map((c) => `${quoteIdent(c.name)} ${bufferSqlType(c.kind)}`);
  await connection.run(`CREATE TABLE ${table} (${defs.join(', ')})`);
  for (const c of builder.columns) c.tableKind = c.kind;
  const appender = await connection.createAppender(table);
  const chunk = DuckDBDataChunk.create(chunkTypes(builder.columns));
  for (const s of sealed) {
    encoder.encode(chunk.chunk, builder.columns, s);
    appender.appendDataChunk(chunk);
    chunk.reset();
  }
  appender.closeSync();
  const reader = await connection.runAndReadAll(`SELECT * FROM ${table}`);
  return new Map(reader.getRowObjectsJS().map((r) => [String(r.id), r as Record<string, unknown>]));
}

function envelope(
  id: string,
  normalized: Record<string, unknown>,
  enriched: Record<string, unknown> = {},
): Envelope {
  return { id, source: 'zeek', log_type: 'conn', raw: { uid: id, 'id.orig_p': 1 }, normalized, enriched };
}

test('strings of every length and script survive: inline (≤ 12 ASCII) and native paths agree', async () => {
  const values = [
    '',
    'a',
    '10.0.0.1',
    'exactly12chr',
    'thirteen_chrs',
    'é',
    'naïve-ü',
    '東京',
    '🙂 emoji',
    'x'.repeat(300),
    'tab\there',
    'nul\u0000in',
  ];
  const rows = await roundTrip(values.map((user, i) => envelope(`s${i}`, { user })));
  values.forEach((user, i) => {
    assert.equal(rows.get(`s${i}`)?.user, user, JSON.stringify(user));
  });
});

test('64-bit, double, boolean, timestamp and list columns carry their values; NULL where absent or mistyped', async () => {
  const envs = [
    envelope(
      'a',
      {
        src_port: 0,
        bytes_in: 2 ** 53 - 1,
        duration_ms: 1.25,
        event_time: -1000,
        dns_answers: ['x.example', '1.2.3.4'],
      },
      { src_ip_is_private: true },
    ),
    envelope(
      'b',
      {
        src_port: -1,
        bytes_in: 4_294_967_296,
        duration_ms: 0,
        event_time: 1_769_853_601_850.7,
        dns_answers: [],
      },
      { src_ip_is_private: false },
    ),
    envelope('c', { src_port: 'not-a-port', bytes_in: 1.5, duration_ms: 'slow', event_time: 'never' }),
    envelope('d', { dns_answers: ['one', null, 'three'] }),
  ];
  const rows = await roundTrip(envs);
  const a = rows.get('a');
  assert.equal(a?.src_port, 0n);
  assert.equal(a?.bytes_in, BigInt(2 ** 53 - 1));
  assert.equal(a?.duration_ms, 1.25);
  assert.equal(new Date(a?.event_time as Date).getTime(), -1000);
  assert.deepEqual(a?.dns_answers, ['x.example', '1.2.3.4']);
  assert.equal(a?.src_ip_is_private, true);
  const b = rows.get('b');
  assert.equal(b?.src_port, -1n);
  assert.equal(b?.bytes_in, 4_294_967_296n);
  assert.equal(new Date(b?.event_time as Date).getTime(), 1_769_853_601_850);
  assert.deepEqual(b?.dns_answers, []);
  assert.equal(b?.src_ip_is_private, false);
  const c = rows.get('c');
  for (const key of ['src_port', 'bytes_in', 'duration_ms', 'event_time', 'dns_answers', 'src_ip_is_private'])
    assert.equal(c?.[key], null, key);
  assert.deepEqual(rows.get('d')?.dns_answers, ['one', null, 'three']);
});

test('several chunks: NULL bits and values stay on their own rows across chunk boundaries', async () => {
  const count = CHUNK_ROWS * 2 + 77;
  const envs = Array.from({ length: count }, (_, i) =>
    envelope(`r${i}`, i % 3 === 0 ? { user: `u${i}`, src_port: i } : { dst_port: i }),
  );
  const rows = await roundTrip(envs);
  assert.equal(rows.size, count);
  for (let i = 0; i < count; i++) {
    const row = rows.get(`r${i}`);
    assert.equal(row?.user, i % 3 === 0 ? `u${i}` : null);
    assert.equal(row?.src_port, i % 3 === 0 ? BigInt(i) : null);
    assert.equal(row?.dst_port, i % 3 === 0 ? null : BigInt(i));
    assert.deepEqual(JSON.parse(String(row?.raw)), { uid: `r${i}`, 'id.orig_p': 1 });
  }
});
