/**
 * An alert's related events (GET /api/alerts/:id and /api/alerts/:id/events) over a real lake that
 * holds other hours too: every kept id is listed, page after page (no cut at 200), and only the
 * hour partitions of the alert's span are read — proved by a corrupt file in another hour, which
 * a query that read it would fail on. Event searches list the files of their windows' hours the
 * same way (lake/hour-files.ts): the corrupt file, first of its log type, is never opened.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { alertFor, bearer, type Fixture, startFixture } from './helpers.ts';

const HOUR = 3_600_000;
let f: Fixture;
let alertId: string;
let keptIds: string[];
let burstSpan: { from: number; to: number };

function json<T>(res: { body: string }): T {
  return JSON.parse(res.body) as T;
}

/** Every Parquet file under `dir`, at any depth. */
function parquetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name));
}

before(async () => {
  f = await startFixture();
  // 260 SSL events one per second, inside one hour that is 3 hours old; 20 more 9 hours old.
  const hourStart = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
  const burst = manyEnvelopes('ssl', 260, hourStart + 60_000, 1000, 'burst');
  const older = manyEnvelopes('ssl', 20, hourStart - 6 * HOUR + 60_000, 1000, 'older');
  const lakeDir = join(f.dir, 'lake');
  const before = new Set(parquetFiles(lakeDir));
  await writeLake(lakeDir, [older]);
  const olderFiles = parquetFiles(lakeDir).filter((file) => !before.has(file));
  await writeLake(lakeDir, [burst]);
  const alert = alertFor(burst, { id: 'alert-burst', rule_id: 'tls-burst', rule_title: 'TLS burst' });
  await f.deps.alerts.upsert([alert]);
  alertId = alert.id;
  keptIds = alert.event_ids;
  burstSpan = { from: alert.first_seen, to: alert.last_seen };
  // The views are made while every file is readable; then the older hour's files become
  // unreadable: a query that opens them fails. The alert's hour stays intact.
  assert.ok((await f.deps.lake.views()).includes('ssl'));
  assert.equal(olderFiles.length, 1);
  for (const file of olderFiles) writeFileSync(file, 'not parquet');
});
after(() => f.close());

test('the lake really holds unreadable files outside the alert’s hour (a full scan fails)', async () => {
  const res = await f.app.inject({ url: '/api/events?log_type=ssl&limit=500', headers: bearer('viewer') });
  assert.equal(res.statusCode, 400, res.body);
  assert.match(res.body, /too small to be a Parquet file/);
});

test('an event search over a range reads only its hours too (the older hour is never opened)', async () => {
  // The `events` view (the ssl view itself would bind its columns from the unreadable first file).
  const res = await f.app.inject({
    url: `/api/events?limit=500&from=${burstSpan.from}&to=${burstSpan.to}`,
    headers: bearer('viewer'),
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(json<{ events: unknown[] }>(res).events.length, 260);
});

test('a search of one log type lists the files of its hours: the view’s first file, unreadable, is never opened', async () => {
  // The ssl view binds its columns from its glob's first file, the unreadable older hour: a search
  // through the view failed with it even over other hours. Listed files bind from a file in range.
  for (const order of ['desc', 'asc']) {
    const res = await f.app.inject({
      url: `/api/events?log_type=ssl&limit=500&order=${order}&from=${burstSpan.from}&to=${burstSpan.to}`,
      headers: bearer('viewer'),
    });
    assert.equal(res.statusCode, 200, res.body);
    const events = json<{ events: Array<{ id: string; event_time: number }> }>(res).events;
    assert.equal(events.length, 260);
    assert.equal(new Set(events.map((e) => e.id)).size, 260);
  }
  // Newest first without a lower bound: the first window (the last hour: no ssl file) and the
  // next (1–6 h back: the burst) fill the page; the unreadable hour 9 h back is never listed.
  const res = await f.app.inject({ url: '/api/events?log_type=ssl&limit=100', headers: bearer('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  const page = json<{ events: Array<{ event_time: number }>; next_cursor: string | null }>(res);
  assert.equal(page.events.length, 100);
  assert.ok(page.next_cursor);
  assert.ok(page.events.every((e) => e.event_time >= burstSpan.from));
});

test('a newest-first search over 10 hours stops at the window that fills the page (the older hour is never opened)', async () => {
  const from = Date.now() - 10 * HOUR;
  const res = await f.app.inject({ url: `/api/events?limit=100&from=${from}`, headers: bearer('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  const page = json<{ events: Array<{ id: string; event_time: number }>; next_cursor: string }>(res);
  // The fixture's 50 recent events (last hour), then the newest 50 of the burst (3 hours ago).
  assert.equal(page.events.length, 100);
  const times = page.events.map((e) => e.event_time);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  );
  assert.equal(page.events.filter((e) => e.event_time >= burstSpan.from).length, 100);
  assert.equal(page.events.filter((e) => e.event_time <= burstSpan.to).length, 50);
  // The next pages continue where it stopped; the third reaches the unreadable hour.
  const second = await f.app.inject({
    url: `/api/events?limit=100&from=${from}&cursor=${page.next_cursor}`,
    headers: bearer('viewer'),
  });
  assert.equal(second.statusCode, 200, second.body);
  const ids = new Set(
    [...page.events, ...json<{ events: Array<{ id: string }> }>(second).events].map((e) => e.id),
  );
  assert.equal(ids.size, 200);
});

test('alert detail lists the first 100 events, then the pages cover every kept id once, oldest first', async () => {
  assert.equal(keptIds.length, 260);
  const res = await f.app.inject({ url: `/api/alerts/${alertId}`, headers: bearer('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  const detail = json<{ events: Array<{ id: string }>; events_next_cursor: string | null }>(res);
  assert.equal(detail.events.length, 100);
  assert.ok(detail.events_next_cursor);
  const seen = detail.events.map((e) => e.id);
  const times: number[] = [];
  let cursor: string | null = detail.events_next_cursor;
  let pages = 1;
  while (cursor) {
    const res: { statusCode: number; body: string } = await f.app.inject({
      url: `/api/alerts/${alertId}/events?limit=100&cursor=${cursor}`,
      headers: bearer('viewer'),
    });
    assert.equal(res.statusCode, 200, res.body);
    const page = json<{ events: Array<{ id: string; event_time: number }>; next_cursor: string | null }>(res);
    seen.push(...page.events.map((e) => e.id));
    times.push(...page.events.map((e) => Number(e.event_time)));
    cursor = page.next_cursor;
    pages++;
  }
  assert.equal(pages, 3);
  assert.equal(new Set(seen).size, 260, 'no event twice');
  assert.deepEqual([...seen].sort(), [...keptIds].sort());
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
});

test('a related-events cursor of another listing, or a forged one, is refused with 400', async () => {
  const newest = json<{ next_cursor: string }>(
    await f.app.inject({
      url: `/api/events?log_type=ssl&limit=5&from=${Date.now() - 4 * HOUR}`,
      headers: bearer('viewer'),
    }),
  );
  for (const cursor of [newest.next_cursor, 'garbage']) {
    const res = await f.app.inject({
      url: `/api/alerts/${alertId}/events?cursor=${cursor}`,
      headers: bearer('viewer'),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(json<{ code: string }>(res).code, 'SOC_USAGE');
  }
  const missing = await f.app.inject({ url: '/api/alerts/nope/events', headers: bearer('viewer') });
  assert.equal(missing.statusCode, 404);
});
