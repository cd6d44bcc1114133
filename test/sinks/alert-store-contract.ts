/**
 * The alert-store contract: every implementation runs these same tests
 * (test/sinks/alert-store-sqlite.test.ts, test/integration/alert-store-postgres.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidTransitionError, NotFoundError, UsageError } from '../../src/core/errors.ts';
import { type Alert, LEVELS, type Level } from '../../src/detect/alert.ts';
import { ALERT_SORT_KEYS, type AlertSortKey, type AlertStore } from '../../src/sinks/alert-store.ts';

export interface ContractTarget {
  /** A new store instance over the same database each call (used to test persistence). */
  open(): AlertStore;
  /** Drops the database / schema. */
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2026-01-31T10:00:00Z');

export function makeAlert(n: number, overrides: Partial<Alert> = {}): Alert {
  const levels: Level[] = ['low', 'medium', 'high', 'critical'];
  return {
    id: `alert-${String(n).padStart(4, '0')}`,
    rule_id: n % 2 === 0 ? 'ssh-brute-force' : 'dns-tunnel',
    rule_title: n % 2 === 0 ? 'SSH brute force' : 'DNS tunnelling',
    level: levels[n % levels.length],
    tags: ['attack.credential_access', 'attack.t1110'],
    group: { src_ip: `10.0.0.${n % 7}` },
    entity: `10.0.0.${n % 7}`,
    count: 5,
    first_seen: T0 + n * 60_000,
    last_seen: T0 + n * 60_000 + 30_000,
    event_ids: [`e${n}a`, `e${n}b`],
    summary: `alert ${n}`,
    status: 'new',
    assignee: null,
    created_at: T0 + n * 60_000 + 31_000,
    ...overrides,
  };
}

export function alertStoreContract(name: string, makeTarget: () => Promise<ContractTarget>): void {
  describe(`alert store contract: ${name}`, () => {
    let target: ContractTarget;
    let store: AlertStore;
    before(async () => {
      target = await makeTarget();
      store = target.open();
      await store.start();
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('healthcheck is ok once started', async () => {
      assert.equal((await store.healthcheck()).ok, true);
    });

    test('upsert then get returns the alert as given', async () => {
      const a = makeAlert(1);
      await store.upsert([a]);
      assert.deepEqual(await store.get(a.id), a);
      assert.equal(await store.get('no-such-alert'), null);
    });

    test('upsert is idempotent: the same alert twice is one alert with one created entry', async () => {
      const a = makeAlert(2);
      await store.upsert([a]);
      await store.upsert([a]);
      await store.upsert([a, a]);
      assert.deepEqual(await store.get(a.id), a);
      const history = await store.history(a.id);
      assert.equal(history.length, 1);
      assert.equal(history[0].action, 'created');
      assert.equal(history[0].actor, 'detector');
    });

    test('an updated alert raises count and last_seen; an older replay lowers nothing', async () => {
      const a = makeAlert(3);
      await store.upsert([a]);
      const grown = {
        ...a,
        count: 12,
        last_seen: a.last_seen + 60_000,
        event_ids: ['x', 'y', 'z'],
        summary: 'grown',
      };
      await store.upsert([grown]);
      await store.upsert([a]);
      const got = await store.get(a.id);
      assert.equal(got?.count, 12);
      assert.equal(got?.last_seen, grown.last_seen);
      assert.equal(got?.first_seen, a.first_seen);
      assert.deepEqual(got?.event_ids, ['x', 'y', 'z']);
      assert.equal(got?.summary, 'grown');
    });

    test('concurrent upserts of one id end with the largest count and one created entry', async () => {
      const a = makeAlert(4);
      await Promise.all([1, 7, 3, 9, 2].map((count) => store.upsert([{ ...a, count }])));
      assert.equal((await store.get(a.id))?.count, 9);
      assert.equal((await store.history(a.id)).filter((h) => h.action === 'created').length, 1);
    });

    test('status, assignee and notes follow the workflow and land in the history, oldest first', async () => {
      const a = makeAlert(5);
      await store.upsert([a]);
      const acked = await store.update(a.id, { status: 'acknowledged', assignee: 'alice' }, 'alice');
      assert.equal(acked.status, 'acknowledged');
      assert.equal(acked.assignee, 'alice');
      await store.update(a.id, { note: 'looks like a scanner' }, 'alice');
      const closed = await store.update(a.id, { status: 'closed' }, 'bob');
      assert.equal(closed.status, 'closed');
      await assert.rejects(store.update(a.id, { status: 'acknowledged' }, 'bob'), InvalidTransitionError);
      const reopened = await store.update(a.id, { status: 'new' }, 'carol');
      assert.equal(reopened.status, 'new');
      await store.update(a.id, { status: 'false_positive', assignee: null }, 'carol');
      const history = await store.history(a.id);
      assert.deepEqual(
        history.map((h) => [h.action, h.actor, h.from, h.to, h.note]),
        [
          ['created', 'detector', null, 'new', null],
          ['status', 'alice', 'new', 'acknowledged', null],
          ['assignee', 'alice', null, 'alice', null],
          ['note', 'alice', null, null, 'looks like a scanner'],
          ['status', 'bob', 'acknowledged', 'closed', null],
          ['status', 'carol', 'closed', 'new', null],
          ['status', 'carol', 'new', 'false_positive', null],
          ['assignee', 'carol', 'alice', null, null],
        ],
      );
      for (const h of history) assert.ok(h.at > 0 && h.alert_id === a.id);
      const stored = await store.get(a.id);
      assert.equal(stored?.status, 'false_positive');
      assert.equal(stored?.assignee, null);
    });

    test('setting the current status again changes nothing and writes no history', async () => {
      const a = makeAlert(6);
      await store.upsert([a]);
      await store.update(a.id, { status: 'new' }, 'alice');
      assert.equal((await store.history(a.id)).length, 1);
    });

    test('an upsert never overwrites what analysts set', async () => {
      const a = makeAlert(7);
      await store.upsert([a]);
      await store.update(a.id, { status: 'acknowledged', assignee: 'dave' }, 'dave');
      await store.upsert([{ ...a, count: 50, status: 'new', assignee: null }]);
      const got = await store.get(a.id);
      assert.equal(got?.count, 50);
      assert.equal(got?.status, 'acknowledged');
      assert.equal(got?.assignee, 'dave');
    });

    test('update of an unknown alert is NotFound', async () => {
      await assert.rejects(store.update('missing', { status: 'closed' }, 'x'), NotFoundError);
    });

    describe('list', () => {
      const ids = Array.from({ length: 25 }, (_, i) => 100 + i);
      before(async () => {
        await store.upsert(
          ids.map((n) =>
            makeAlert(n, { id: `list-${n}`, rule_id: `list-rule-${n % 3}`, count: ((n * 7) % 11) + 1 }),
          ),
        );
        // Two alerts share a last_seen: the id breaks the tie in the order and the cursor.
        await store.upsert([makeAlert(200, { id: 'list-tie-a', rule_id: 'list-rule-tie', last_seen: T0 })]);
        await store.upsert([makeAlert(200, { id: 'list-tie-b', rule_id: 'list-rule-tie', last_seen: T0 })]);
      });

      test('pages cover every alert once, newest last_seen first', async () => {
        const seen: string[] = [];
        const lastSeens: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await store.list({ limit: 4, cursor });
          for (const a of page.alerts) {
            seen.push(a.id);
            lastSeens.push(a.last_seen);
          }
          cursor = page.next_cursor;
          pages++;
        } while (cursor !== null && pages < 100);
        assert.equal(new Set(seen).size, seen.length, 'no alert twice');
        for (const n of ids) assert.ok(seen.includes(`list-${n}`));
        assert.ok(seen.includes('list-tie-a') && seen.includes('list-tie-b'));
        assert.deepEqual(
          lastSeens,
          [...lastSeens].sort((x, y) => y - x),
        );
        const all = (await store.list({ limit: 1000 })).alerts.length;
        assert.equal(seen.length, all);
      });

      test('filters by rule, status, level, entity and time range', async () => {
        const byRule = await store.list({ rule_id: 'list-rule-0', limit: 100 });
        assert.deepEqual(
          byRule.alerts.map((a) => a.id).sort(),
          ids
            .filter((n) => n % 3 === 0)
            .map((n) => `list-${n}`)
            .sort(),
        );
        const tie = await store.list({ rule_id: 'list-rule-tie', limit: 1 });
        assert.equal(tie.alerts.length, 1);
        assert.notEqual(tie.next_cursor, null);
        const tie2 = await store.list({ rule_id: 'list-rule-tie', limit: 1, cursor: tie.next_cursor });
        assert.equal(tie2.alerts.length, 1);
        assert.notEqual(tie2.alerts[0].id, tie.alerts[0].id);
        assert.equal(tie2.next_cursor, null);

        await store.update('list-101', { status: 'acknowledged' }, 'eve');
        const acked = await store.list({ status: 'acknowledged', rule_id: 'list-rule-2', limit: 100 });
        assert.deepEqual(
          acked.alerts.map((a) => a.id),
          ['list-101'],
        );
        const levels = await store.list({ level: ['critical', 'high'], rule_id: 'list-rule-1', limit: 100 });
        assert.ok(levels.alerts.length > 0);
        for (const a of levels.alerts) assert.ok(a.level === 'critical' || a.level === 'high');
        const entity = await store.list({ entity: '10.0.0.3', limit: 1000 });
        assert.ok(entity.alerts.length > 0);
        for (const a of entity.alerts) assert.equal(a.entity, '10.0.0.3');

        // Alerts 110..114 overlap [from, to]; first_seen = T0 + n min, last_seen = +30 s.
        const from = T0 + 110 * 60_000;
        const to = T0 + 114 * 60_000;
        const range = await store.list({ from, to, limit: 1000 });
        const inRange = range.alerts.filter((a) => a.id.startsWith('list-') && !a.id.startsWith('list-tie'));
        assert.deepEqual(inRange.map((a) => a.id).sort(), [
          'list-110',
          'list-111',
          'list-112',
          'list-113',
          'list-114',
        ]);
      });

      test('every sort orders the whole result and its pages cover every alert once in that order', async () => {
        const all = (await store.list({ limit: 1000 })).alerts;
        const rank = (a: Alert) => LEVELS.indexOf(a.level);
        const keyOf: Record<AlertSortKey, (a: Alert) => number> = {
          last_seen: (a) => a.last_seen,
          first_seen: (a) => a.first_seen,
          level: rank,
          count: (a) => a.count,
        };
        for (const sort of ALERT_SORT_KEYS) {
          for (const order of ['desc', 'asc'] as const) {
            const seen: Alert[] = [];
            let cursor: string | null = null;
            let pages = 0;
            do {
              const page = await store.list({ sort, order, limit: 3, cursor });
              seen.push(...page.alerts);
              cursor = page.next_cursor;
              pages++;
            } while (cursor !== null && pages < 200);
            // Ties are broken by id in the database's collation: check the keys' order and coverage.
            assert.equal(
              new Set(seen.map((a) => a.id)).size,
              all.length,
              `sort=${sort} order=${order}: each once`,
            );
            const keys = seen.map(keyOf[sort]);
            const sorted = [...keys].sort((x, y) => (order === 'desc' ? y - x : x - y));
            assert.deepEqual(keys, sorted, `sort=${sort} order=${order}`);
          }
        }
        // The first page of a sort by level is the most severe alerts of the whole store, not of a page.
        const top = await store.list({ sort: 'level', limit: 2 });
        assert.equal(
          top.alerts[0].level,
          all.map((a) => a.level).sort((x, y) => LEVELS.indexOf(y) - LEVELS.indexOf(x))[0],
        );
        const other = await store.list({ sort: 'count', limit: 2 });
        await assert.rejects(store.list({ sort: 'level', cursor: other.next_cursor }), UsageError);
      });

      test('a bad cursor or limit is a usage error', async () => {
        await assert.rejects(store.list({ cursor: 'garbage' }), UsageError);
        await assert.rejects(store.list({ limit: 0 }), UsageError);
        await assert.rejects(store.list({ limit: 5000 }), UsageError);
      });
    });

    test('count counts every alert of the filter, beyond a page, by level and by rule', async () => {
      // Far from the other tests' alerts (their times are near T0): a window of their own.
      const base = Date.parse('2030-06-01T00:00:00Z');
      const many = Array.from({ length: 1203 }, (_, i) =>
        makeAlert(i, {
          id: `count-${String(i).padStart(5, '0')}`,
          rule_id: `rule-${i % 3}`,
          rule_title: `Rule ${i % 3}`,
          first_seen: base + i * 1000,
          last_seen: base + i * 1000 + 500,
        }),
      );
      await store.upsert(many);
      await store.update(many[0].id, { status: 'closed' }, 'grace');
      const window = { from: base, to: base + 2_000_000 };
      const expected = (pick: (a: Alert) => boolean) => {
        const chosen = many.filter(pick);
        const byLevel: Record<string, number> = {};
        const byRule: Record<string, number> = {};
        for (const a of chosen) {
          byLevel[a.level] = (byLevel[a.level] ?? 0) + 1;
          byRule[a.rule_id] = (byRule[a.rule_id] ?? 0) + 1;
        }
        return { total: chosen.length, byLevel, byRule };
      };
      const all = await store.count(window);
      const want = expected(() => true);
      assert.equal(all.total, 1203, 'more than the 1,000 a page holds');
      assert.deepEqual(all.by_level, want.byLevel);
      assert.deepEqual(
        all.by_rule,
        Object.entries(want.byRule)
          .map(([rule_id, n]) => ({ rule_id, title: `Rule ${rule_id.slice(5)}`, n }))
          .sort((a, b) => b.n - a.n || a.rule_id.localeCompare(b.rule_id)),
      );
      // The filter is list's: a time range, a status, a level.
      const part = await store.count({ from: base + 100_000, to: base + 200_000 });
      const partWant = expected((a) => a.last_seen >= base + 100_000 && a.first_seen <= base + 200_000);
      assert.equal(part.total, partWant.total);
      assert.deepEqual(part.by_level, partWant.byLevel);
      assert.equal((await store.count({ ...window, status: 'closed' })).total, 1);
      assert.equal((await store.count({ ...window, level: 'high' })).total, want.byLevel.high);
      assert.deepEqual(await store.count({ from: base - 10_000, to: base - 5_000 }), {
        total: 0,
        by_level: {},
        by_rule: [],
      });
    });

    test('alerts and history survive closing and reopening the store', async () => {
      const a = makeAlert(9);
      await store.upsert([a]);
      await store.update(a.id, { status: 'acknowledged' }, 'frank');
      const second = target.open();
      await second.start();
      try {
        assert.equal((await second.get(a.id))?.status, 'acknowledged');
        assert.equal((await second.history(a.id)).length, 2);
      } finally {
        await second.close();
      }
    });
  });
}
