/**
 * The files an event search lists for its windows (lake/hour-files.ts): only the hour directories
 * that overlap the span, across day, month and year boundaries, either end open, hidden temps and
 * hidden directories left out, oldest hour first.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { hourFiles, unitRange } from '../../src/lake/hour-files.ts';
import { encodeEventCursor, windowSpan } from '../../src/serve/lake-sql.ts';

const H = 3_600_000;
const lake = mkdtempSync(join(tmpdir(), 'socstream-hour-files-'));
after(() => rmSync(lake, { recursive: true, force: true }));

function put(type: string, hourMs: number, name: string): void {
  const iso = new Date(hourMs).toISOString();
  const dir = join(
    lake,
    type,
    `year=${iso.slice(0, 4)}`,
    `month=${iso.slice(5, 7)}`,
    `day=${iso.slice(8, 10)}`,
    `hour=${iso.slice(11, 13)}`,
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), '');
}

// Hours around a new year: 2025-12-31 22:00 … 2026-01-01 02:00 (UTC), two log types.
const NEW_YEAR = Date.UTC(2026, 0, 1);
for (let h = -2; h <= 2; h++) {
  put('dns', NEW_YEAR + h * H, `dns_${h + 2}.parquet`);
  put('ssh', NEW_YEAR + h * H, `ssh_${h + 2}.parquet`);
}
put('dns', NEW_YEAR, '.dns_temp.parquet.tmp');
put('dns', NEW_YEAR, '.stage_x.parquet');
put('.rollups/dns', NEW_YEAR, 'rollup.parquet');

const names = (files: string[]) => files.map((f) => relative(lake, f).split('/').at(-1));

test('unitRange: a year, month, day and hour, with their ends', () => {
  assert.deepEqual(unitRange([2025]), [Date.UTC(2025, 0, 1), NEW_YEAR]);
  assert.deepEqual(unitRange([2025, 12]), [Date.UTC(2025, 11, 1), NEW_YEAR]);
  assert.deepEqual(unitRange([2025, 12, 31]), [Date.UTC(2025, 11, 31), NEW_YEAR]);
  assert.deepEqual(unitRange([2025, 12, 31, 23]), [NEW_YEAR - H, NEW_YEAR]);
});

test('only the hours that overlap the span, across the year boundary, oldest first', async () => {
  assert.deepEqual(names(await hourFiles(lake, { logType: 'dns', from: NEW_YEAR - H + 1, to: NEW_YEAR })), [
    'dns_1.parquet',
    'dns_2.parquet',
  ]);
  assert.deepEqual(
    names(await hourFiles(lake, { from: NEW_YEAR - 1, to: NEW_YEAR + H - 1 })),
    ['dns_1.parquet', 'ssh_1.parquet', 'dns_2.parquet', 'ssh_2.parquet'],
    'all log types, hour by hour; no hidden file or directory',
  );
  assert.deepEqual(names(await hourFiles(lake, { logType: 'ssh', from: NEW_YEAR + H })), [
    'ssh_3.parquet',
    'ssh_4.parquet',
  ]);
  assert.deepEqual(names(await hourFiles(lake, { logType: 'ssh', to: NEW_YEAR - H })), [
    'ssh_0.parquet',
    'ssh_1.parquet',
  ]);
  assert.equal((await hourFiles(lake, {})).length, 10);
  assert.deepEqual(await hourFiles(lake, { from: NEW_YEAR + 10 * H }), []);
  assert.deepEqual(await hourFiles(lake, { from: NEW_YEAR, to: NEW_YEAR - 1 }), []);
  assert.deepEqual(await hourFiles(lake, { logType: 'nope' }), []);
});

test('windowSpan: range, window and a cursor in the listing’s direction together', () => {
  const filter = { from: 100, to: 10_000, limit: 10 };
  assert.deepEqual(windowSpan(filter, {}), { from: 100, to: 10_000 });
  assert.deepEqual(windowSpan(filter, { after: 5000 }), { from: 5000, to: 10_000 });
  assert.deepEqual(windowSpan(filter, { after: 50, upTo: 20_000 }), { from: 100, to: 10_000 });
  const desc = { ...filter, cursor: encodeEventCursor(7000, 'x') };
  assert.deepEqual(windowSpan(desc, {}), { from: 100, to: 7000 });
  const asc = { ...filter, order: 'asc' as const, cursor: encodeEventCursor(3000, 'x', 'asc') };
  assert.deepEqual(windowSpan(asc, { upTo: 6000 }), { from: 3000, to: 6000 });
  assert.deepEqual(windowSpan({ limit: 10 }, {}), { from: undefined, to: undefined });
});
