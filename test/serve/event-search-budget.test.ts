/**
 * GET /api/events' scan budget over a real lake: once it is spent (0 here) a page that is not full
 * answers what the windows read so far hold, `partial: true`, `searched_to` and a cursor that
 * continues at the boundary; following the cursors gives every event once, in order, the same rows
 * as the search without a budget — events exactly at a boundary included.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Envelope } from '../../src/core/envelope.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { bearer, type Fixture, startFixture } from './helpers.ts';

const HOUR = 3_600_000;
let budgetless: Fixture;
let spent: Fixture;
const to = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
let all: Envelope[];

interface Page {
  events: Array<{ id: string; event_time: number }>;
  next_cursor: string | null;
  partial?: boolean;
  searched_to?: number;
}

async function pages(f: Fixture, query: string): Promise<Page[]> {
  const out: Page[] = [];
  let cursor: string | null = null;
  do {
    const res: { statusCode: number; body: string } = await f.app.inject({
      url: `/api/events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      headers: bearer('viewer'),
    });
    assert.equal(res.statusCode, 200, res.body);
    const page = JSON.parse(res.body) as Page;
    out.push(page);
    cursor = page.next_cursor;
  } while (cursor && out.length < 50);
  return out;
}

before(async () => {
  budgetless = await startFixture();
  spent = await startFixture({}, { searchBudgetMs: 0 });
  // 10 events in the last hour before `to`, 10 three hours back, 10 a day and a half back, and
  // 3 exactly at the first windows' boundaries (to − 1 h, to − 6 h).
  all = [
    ...manyEnvelopes('dns', 10, to - 30 * 60_000, 1000, 'b-recent'),
    ...manyEnvelopes('dns', 10, to - 3 * HOUR, 1000, 'b-hours'),
    ...manyEnvelopes('dns', 10, to - 36 * HOUR, 1000, 'b-old'),
    ...manyEnvelopes('dns', 2, to - HOUR, 0, 'b-edge1'),
    ...manyEnvelopes('dns', 1, to - 6 * HOUR, 0, 'b-edge6'),
  ];
  for (const f of [budgetless, spent]) await writeLake(join(f.dir, 'lake'), [all]);
});
after(async () => {
  await budgetless.close();
  await spent.close();
});

for (const order of ['desc', 'asc'] as const) {
  test(`a spent budget pages ${order} by window boundaries: every event once, the same rows as without a budget`, async () => {
    const query = `from=${to - 48 * HOUR}&to=${to}&limit=100&order=${order}`;
    const whole = await pages(budgetless, query);
    assert.equal(whole.length, 1);
    assert.equal(whole[0].partial, undefined);
    assert.equal(whole[0].events.length, all.length);
    const parts = await pages(spent, query);
    assert.ok(parts.length >= 3, `${parts.length} pages`);
    for (const p of parts.slice(0, -1)) {
      assert.equal(p.partial, true);
      assert.equal(typeof p.searched_to, 'number');
      for (const e of p.events)
        assert.ok(
          order === 'desc' ? e.event_time > (p.searched_to ?? 0) : e.event_time <= (p.searched_to ?? 0),
        );
    }
    assert.equal(parts[parts.length - 1].next_cursor, null);
    assert.deepEqual(
      parts.flatMap((p) => p.events.map((e) => e.id)),
      whole[0].events.map((e) => e.id),
    );
  });
}

test('a full page is not partial: the budget only cuts a page that is still filling', async () => {
  const [page] = await pages(spent, `from=${to - 48 * HOUR}&to=${to}&limit=5`);
  assert.equal(page.events.length, 5);
  assert.equal(page.partial, undefined);
  assert.ok(page.next_cursor);
});
