import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { hourPartitions } from '../../src/lake/compact.ts';
import { createCompactor, lakeLagCheck } from '../../src/lake/compactor.ts';
import { buildApp } from '../../src/serve/app.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { startFixture } from './helpers.ts';

const HOUR = 3_600_000;

/** A lake with one closed hour (three hours ago) that nothing has compacted. */
async function lakeBehind(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-ready-'));
  const hour = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
  await writeLake(dir, [
    manyEnvelopes('ssh', 20, hour + 60_000, 1000, 'a'),
    manyEnvelopes('ssh', 20, hour + 60_000, 1000, 'b'),
  ]);
  return dir;
}

test('/readyz says when the lake compaction is behind: degraded with a warning, still 200; /healthz stays up', async () => {
  const g = await startFixture();
  const dir = await lakeBehind();
  try {
    // The serve process's default check: the lake's inventory (here: a closed hour waiting ~2 h).
    const check = lakeLagCheck(dir, { maxLagMs: 30 * 60_000 });
    const behind = await check();
    assert.equal(behind.ok, false);
    assert.match(behind.detail ?? '', /lake compaction behind: a closed hour has waited \d+ s/);
    const app = await buildApp({ ...g.deps, advisories: async () => ({ lake_compaction: await check() }) });
    const res = await app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 200, 'a lake that is behind is slower, not unavailable');
    const body = res.json() as {
      ok: boolean;
      degraded?: boolean;
      warnings?: string[];
      checks: Record<string, { ok: boolean }>;
    };
    assert.equal(body.ok, true);
    assert.equal(body.degraded, true);
    assert.match(body.warnings?.[0] ?? '', /^lake_compaction: lake compaction behind/);
    assert.equal(body.checks.lake_compaction.ok, false);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    await app.close();
    // The fixture's own lake (nothing waiting): no warning.
    const fine = await buildApp({
      ...g.deps,
      advisories: async () => ({ lake_compaction: await lakeLagCheck(g.dir)() }),
    });
    const ok = (await fine.inject({ url: '/readyz' })).json() as {
      degraded?: boolean;
      checks: Record<string, { ok: boolean }>;
    };
    assert.equal(ok.degraded, undefined);
    assert.equal(ok.checks.lake_compaction.ok, true);
    await fine.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
    await g.close();
  }
});

test('a compactor that cannot compact a closed hour fails its health check; once it has, the check is ok', async () => {
  const dir = await lakeBehind();
  try {
    // Another live compactor holds the hour's lock (this process's pid): this one cannot compact it.
    const [partition] = await hourPartitions(dir);
    const lock = join(partition.dir, '.compacting');
    await writeFile(lock, `${hostname()} ${process.pid}\n`);
    const compactor = createCompactor({
      lakeDir: dir,
      intervalMs: 3_600_000,
      maxLagMs: 60_000,
      logger: pino({ level: 'silent' }),
    });
    await compactor.runOnce();
    const behind = await compactor.healthcheck();
    assert.equal(behind.ok, false);
    assert.match(behind.detail ?? '', /lake compaction behind/);
    // The lock goes away: the next run compacts the hour and the check is ok again.
    await rm(lock);
    await compactor.runOnce();
    const health = await compactor.healthcheck();
    assert.equal(health.ok, true, health.detail);
    assert.equal((await lakeLagCheck(dir, { maxLagMs: 60_000, cacheMs: 0 })()).ok, true);
    await compactor.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
