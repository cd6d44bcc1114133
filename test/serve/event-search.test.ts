import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString } from '../../src/core/sql.ts';
import { hourFiles } from '../../src/lake/hour-files.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { searchEventsNewestFirst, searchSlices, viewSql } from '../../src/serve/event-search.ts';
import {
  decodeEventCursor,
  type EventFilter,
  encodeEventCursor,
  eventsSql,
  eventsSqlFrom,
} from '../../src/serve/lake-sql.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';

const H = 3_600_000;

test('search slices are newest first, disjoint, and cover the window exactly', () => {
  const top = Date.parse('2026-12-07T12:30:00Z');
  const from = top - 30 * H;
  const slices = searchSlices(from, top, top);
  assert.deepEqual(slices, [
    { from: top - H, to: top },
    { from: top - 4 * H, to: top - H - 1 },
    { from: top - 24 * H, to: top - 4 * H - 1 },
    { from, to: top - 24 * H - 1 },
  ]);
  // An open window: the first slice keeps no upper bound, the last no lower bound.
  const open = searchSlices(undefined, undefined, top);
  assert.equal(open[0].to, undefined);
  assert.equal(open.at(-1)?.from, undefined);
  assert.equal(open.length, 5);
  // A short window is one slice.
  assert.deepEqual(searchSlices(top - 15 * 60_000, top, top), [{ from: top - 15 * 60_000, to: top }]);
});

test('the sliced search pages exactly as the single query, across slices and with a cursor', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-search-'));
  try {
    // Real Zeek DNS records over 25 hours, one every 10 minutes, two ids per minute-ish.
    const start = Date.parse('2018-03-22T00:00:00Z');
    await writeLake(dir, [
      manyEnvelopes('dns', 150, start, 10 * 60_000, 'a'),
      manyEnvelopes('dns', 150, start + 5_000, 10 * 60_000, 'b'),
    ]);
    const lake = await LakeQuery.open({ lakeDir: dir });
    try {
      const end = start + 25 * H;
      const run = (sql: string, o: object) => lake.query(sql, o);
      const filesSql = async (slice: EventFilter) => {
        const t = slice.cursor ? decodeEventCursor(slice.cursor)?.t : undefined;
        const to = Math.min(slice.to ?? Number.POSITIVE_INFINITY, t ?? Number.POSITIVE_INFINITY);
        const files = await hourFiles(dir, {
          logType: 'dns',
          from: slice.from,
          to: Number.isFinite(to) ? to : undefined,
        });
        if (files.length === 0) return null;
        return eventsSqlFrom(
          slice,
          `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false)`,
        );
      };
      const filters: EventFilter[] = [
        { from: start, to: end, limit: 25 },
        { from: start, to: end, limit: 200 },
        { limit: 7 },
        { from: start + 3 * H, limit: 50 },
        { from: start, to: end, q: 'a', limit: 30 },
      ];
      for (const base of filters) {
        // Walk every page both ways; the ids must match page for page.
        let cursor: string | undefined;
        for (let page = 0; page < 40; page++) {
          const filter = { ...base, cursor };
          const single = await lake.query(eventsSql(filter, 'dns'));
          const ids = (r: { rows: unknown[][] }) => r.rows.map((row) => row[0]);
          // Over the view, and over the files of each slice's hours (what the API runs).
          const overView = await searchEventsNewestFirst(run, filter, viewSql('dns'), {
            timeoutMs: 10_000,
            nowMs: end,
          });
          assert.deepEqual(ids(overView), ids(single), `filter ${JSON.stringify(filter)}`);
          const overFiles = await searchEventsNewestFirst(run, filter, filesSql, {
            timeoutMs: 10_000,
            nowMs: end,
          });
          assert.deepEqual(ids(overFiles), ids(single), `files, filter ${JSON.stringify(filter)}`);
          if (single.rows.length <= base.limit) break;
          const last = single.rows[base.limit - 1];
          cursor = encodeEventCursor(Number(last[3]), String(last[0]));
        }
      }
    } finally {
      lake.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
