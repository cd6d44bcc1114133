/**
 * The alert page's log-type hint (src/serve/alert-log-types.ts): an alert's related events are
 * looked up first in the files of the log types its rule can see, and in the others only when some
 * kept id was not found there. Over a real lake: the rows are every kept id (the same set a read of
 * all log types gives), events at both edges of the span included; a hinted alert never opens
 * another log type's file (proved by an unreadable one in its hour); a wrong hint still finds all.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ruleLogTypes } from '../../src/serve/alert-log-types.ts';
import { encodeEventCursor, pageAlertEvents } from '../../src/serve/lake-sql.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { alertFor, bearer, type Fixture, startFixture } from './helpers.ts';

const HOUR = 3_600_000;
/** DNS tunnelling - very long query name: logsource category dns → log type dns. */
const DNS_RULE = '1ae57d8f-e72b-44d1-8d59-48f9cea0377c';
let f: Fixture;

function parquetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name));
}

interface Page {
  events: Array<{ id: string; event_time: number; log_type: string }>;
  next_cursor: string | null;
}

/** Every related event of an alert, page after page (detail, then /events by cursor). */
async function allRelated(alertId: string): Promise<Page['events']> {
  const res = await f.app.inject({ url: `/api/alerts/${alertId}`, headers: bearer('viewer') });
  assert.equal(res.statusCode, 200, res.body);
  const first = JSON.parse(res.body) as { events: Page['events']; events_next_cursor?: string | null };
  const out = [...first.events];
  let cursor = first.events_next_cursor ?? null;
  while (cursor) {
    const next = await f.app.inject({
      url: `/api/alerts/${alertId}/events?limit=7&cursor=${encodeURIComponent(cursor)}`,
      headers: bearer('viewer'),
    });
    assert.equal(next.statusCode, 200, next.body);
    const page = JSON.parse(next.body) as Page;
    out.push(...page.events);
    cursor = page.next_cursor;
  }
  return out;
}

const hourStart = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const dns = manyEnvelopes('dns', 150, hourStart + 60_000, 1000, 'hint-dns');
const ssh = manyEnvelopes('ssh', 20, hourStart + 120_000, 1000, 'hint-ssh');
const olderDns = manyEnvelopes('dns', 30, hourStart - 2 * HOUR + 60_000, 1000, 'hint-older-dns');
const olderSsl = manyEnvelopes('ssl', 30, hourStart - 2 * HOUR + 61_500, 1000, 'hint-older-ssl');

before(async () => {
  f = await startFixture({}, { rulePaths: ['rules'] });
  const lakeDir = join(f.dir, 'lake');
  await writeLake(lakeDir, [dns, olderDns, olderSsl]);
  const before = new Set(parquetFiles(lakeDir));
  await writeLake(lakeDir, [ssh]);
  const sshFiles = parquetFiles(lakeDir).filter((file) => !before.has(file));
  assert.ok((await f.deps.lake.views()).includes('ssh'));
  // The alert's hour also holds ssh events; their file becomes unreadable: a read of every log
  // type's files of that hour fails.
  assert.equal(sshFiles.length, 1);
  for (const file of sshFiles) writeFileSync(file, 'not parquet');
});
after(() => f.close());

test('a rule’s log types come from its logsource, a correlation’s from the rules it references', () => {
  assert.deepEqual(ruleLogTypes(['rules'], DNS_RULE), ['dns']);
  // Vertical port scan: a correlation over "Unanswered or rejected connection" (zeek conn, flows).
  assert.deepEqual(ruleLogTypes(['rules'], '6140f1b0-a6f8-4f8a-9cc9-78dadac690ae'), ['conn', 'flow']);
  // sshd lines carry no log type in the table (every log type of that source): no hint.
  assert.equal(ruleLogTypes(['rules'], '8bb8bdfe-b840-4f39-9404-e9b05748f78b'), null);
  assert.equal(ruleLogTypes(['rules'], 'no-such-rule'), null);
});

test('a hinted alert finds every kept id, both edges of its span included, without opening another log type’s file', async () => {
  const alert = alertFor(dns, { id: 'alert-hinted', rule_id: DNS_RULE });
  await f.deps.alerts.upsert([alert]);
  const related = await allRelated(alert.id);
  assert.deepEqual(related.map((e) => e.id).sort(), [...alert.event_ids].sort());
  assert.equal(related.length, alert.event_ids.length);
  assert.equal(related[0].event_time, alert.first_seen);
  assert.equal(related[related.length - 1].event_time, alert.last_seen);
  // Without the hint every log type's files of the hour are read: the unreadable ssh file fails it.
  const unhinted = { ...alert, id: 'alert-unhinted', rule_id: 'no-such-rule' };
  await f.deps.alerts.upsert([unhinted]);
  const res = await f.app.inject({ url: '/api/alerts/alert-unhinted', headers: bearer('viewer') });
  assert.notEqual(res.statusCode, 200, 'a read of every log type opens the unreadable file');
});

test('a wrong hint (ids of another log type) or none finds the same set, and an id not in the lake is just absent', async () => {
  const events = [...olderDns, ...olderSsl].sort(
    (a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time),
  );
  const base = alertFor(events, { rule_id: DNS_RULE });
  const kept = [...base.event_ids];
  const sets: string[][] = [];
  for (const [id, rule] of [
    ['alert-wrong-hint', DNS_RULE],
    ['alert-no-hint', 'no-such-rule'],
  ]) {
    await f.deps.alerts.upsert([{ ...base, id, rule_id: rule, event_ids: [...kept, 'not-in-the-lake'] }]);
    const related = await allRelated(id);
    sets.push(related.map((e) => e.id));
    assert.deepEqual(related.map((e) => e.id).sort(), [...kept].sort());
    assert.deepEqual(new Set(related.map((e) => e.log_type)), new Set(['dns', 'ssl']));
    assert.equal(related[0].event_time, base.first_seen);
    assert.equal(related[related.length - 1].event_time, base.last_seen);
  }
  assert.deepEqual(sets[0], sets[1], 'same rows in the same order with and without the hint');
});

test('pageAlertEvents: sorted by time then id, continues after the cursor row, says whether more follow', () => {
  const rows = [
    { id: 'c', event_time: 2 },
    { id: 'a', event_time: 3 },
    { id: 'b', event_time: 2 },
    { id: 'd', event_time: 1 },
  ];
  const first = pageAlertEvents(rows, 2);
  assert.deepEqual(
    first.events.map((r) => r.id),
    ['d', 'b'],
  );
  assert.equal(first.more, true);
  const next = pageAlertEvents(rows, 2, encodeEventCursor(2, 'b', 'asc'));
  assert.deepEqual(
    next.events.map((r) => r.id),
    ['c', 'a'],
  );
  assert.equal(next.more, false);
  // A newest-first cursor belongs to another listing: ignored, as the SQL ignores it.
  assert.deepEqual(
    pageAlertEvents(rows, 9, encodeEventCursor(2, 'b', 'desc')).events.map((r) => r.id),
    ['d', 'b', 'c', 'a'],
  );
});
