/**
 * GET /api/events/fields: the event search's field list counted by the server over the range (not
 * over a loaded page), over a real lake; and its bounds: the newest 24 h of a longer range, at most
 * FIELD_SAMPLE_ROWS matching events, each cut said in the answer.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hourFiles } from '../../src/lake/hour-files.ts';
import { LakeQuery, readParquetFilesSql } from '../../src/lake/query.ts';
import {
  FIELD_LIST,
  FIELD_SAMPLE_ROWS,
  type FieldValues,
  fieldSpan,
  fieldValues,
  fieldValuesSql,
  fieldWindows,
} from '../../src/serve/event-fields.ts';
import { bearer, type Fixture, startFixture } from './helpers.ts';

const H = 3_600_000;
let f: Fixture;
before(async () => {
  f = await startFixture();
});
after(() => f.close());

/** Each field's values by count over `rows`, most first, ties by value, the first `top`. */
function expectedTop(rows: ReadonlyArray<Record<string, unknown>>, field: string, top = 5) {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const v = r[field];
    if (v === null || v === undefined || v === '') continue;
    counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([value, n]) => ({ value, n }));
}

async function get(url: string): Promise<FieldValues> {
  const res = await f.app.inject({ url, headers: bearer('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  return JSON.parse(res.body) as FieldValues;
}

test('the field list counts every matching event of the range, not a loaded page', async () => {
  const now = Date.now();
  const all: Array<Record<string, unknown>> = [...f.dns, ...f.ssh].map((e) => ({
    ...e.normalized,
    log_type: e.log_type,
  }));
  const answer = await get(`/api/events/fields?from=${now - H}&to=${now}`);
  assert.equal(answer.rows, all.length);
  assert.equal(answer.sampled, false);
  for (const field of ['log_type', 'src_ip', 'dst_ip', 'dst_port'] as const) {
    const got = answer.fields.find((x) => x.field === field)?.values;
    assert.deepEqual(got, expectedTop(all, field), field);
  }
  // With a filter: the values of the matching events only.
  const ip = String(f.ssh[0].normalized.src_ip);
  const filtered = await get(`/api/events/fields?from=${now - H}&to=${now}&src_ip=${ip}`);
  const matching = all.filter((e) => e.src_ip === ip);
  assert.equal(filtered.rows, matching.length);
  assert.deepEqual(
    filtered.fields.find((x) => x.field === 'log_type')?.values,
    expectedTop(matching, 'log_type'),
  );
  // One log type; a range before any event; an unknown log type is a 400 as in /api/events.
  const ssh = await get(`/api/events/fields?from=${now - H}&to=${now}&log_type=ssh`);
  assert.equal(ssh.rows, f.ssh.length);
  const none = await get(`/api/events/fields?from=${now - 30 * H}&to=${now - 26 * H}`);
  assert.deepEqual([none.rows, none.fields, none.sampled], [0, [], false]);
  const bad = await f.app.inject({ url: '/api/events/fields?log_type=nope', headers: bearer('viewer') });
  assert.equal(bad.statusCode, 400);
});

test('a range longer than 24 h is read over its newest 24 h, and the answer says so', async () => {
  const now = Date.now();
  const week = await get(`/api/events/fields?from=${now - 7 * 24 * H}&to=${now}`);
  assert.equal(week.sampled, true);
  assert.equal(week.read_to, now);
  assert.equal(week.read_from, now - 24 * H);
  assert.equal(week.rows, f.dns.length + f.ssh.length, 'the events are all in the last day');
  // No range at all: the last 24 h up to now.
  const open = await get('/api/events/fields');
  assert.equal(open.sampled, true);
  assert.equal(open.read_to - open.read_from, 24 * H);
  assert.deepEqual(fieldSpan({ from: 5, to: 10 * H }, 24, 0), { from: 5, to: 10 * H, cut: false });
  assert.deepEqual(fieldSpan({ from: 0, to: 30 * H }, 24, 0), { from: 6 * H, to: 30 * H, cut: true });
  assert.deepEqual(fieldSpan({}, 24, 48 * H), { from: 24 * H, to: 48 * H, cut: true });
  // Growing windows from the end, the span itself last; none beyond it.
  const windows = [15 * 60_000, H, 6 * H];
  assert.deepEqual(fieldWindows({ from: 0, to: 24 * H }, windows), [24 * H - 15 * 60_000, 23 * H, 18 * H, 0]);
  assert.deepEqual(fieldWindows({ from: 23.5 * H, to: 24 * H }, windows), [24 * H - 15 * 60_000, 23.5 * H]);
  assert.deepEqual(fieldWindows({ from: 23.9 * H, to: 24 * H }, windows), [23.9 * H]);
});

test('at most sample_rows matching events are counted, the newest hour first; sampled says so', async () => {
  assert.equal(FIELD_SAMPLE_ROWS, 20_000);
  const lakeDir = join(f.dir, 'lake');
  const lake = await LakeQuery.open({ lakeDir });
  try {
    const files = (await hourFiles(lakeDir, {})).reverse();
    const limits = { sampleRows: 7, spanHours: 24, top: 3 };
    const result = await lake.query(fieldValuesSql({}, readParquetFilesSql(files, false), limits));
    const counts = fieldValues(result.rows);
    assert.equal(counts.rows, 7);
    const logTypes = counts.fields.find((x) => x.field === 'log_type')?.values ?? [];
    assert.equal(
      logTypes.reduce((s, v) => s + v.n, 0),
      7,
      'the counts are over the 7 events read',
    );
    assert.ok(counts.fields.every((x) => x.values.length <= 3 && FIELD_LIST.includes(x.field as never)));
  } finally {
    lake.close();
  }
});
