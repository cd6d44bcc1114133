import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createAlertStore } from '../../src/pipeline/alerts.ts';
import { SqliteAlertStore, sqlitePath } from '../../src/sinks/alert-store-sqlite.ts';
import { alertStoreContract, makeAlert } from './alert-store-contract.ts';

alertStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-alerts-'));
  const path = join(dir, 'socstream.db');
  return {
    open: () => new SqliteAlertStore({ path }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

test('sqlite: WAL journal, versioned migrations, and an append-only history table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'socstream-alerts-'));
  try {
    const store = createAlertStore({ type: 'sqlite', sqlite_path: 'alerts.db' }, dir);
    await store.start();
    await store.upsert([makeAlert(1)]);
    await store.close();
    const db = new DatabaseSync(join(dir, 'alerts.db'));
    try {
      assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
      const versions = db.prepare('SELECT version FROM socstream_migrations').all() as Array<{
        version: number;
      }>;
      assert.deepEqual(
        versions.map((v) => Number(v.version)),
        [1],
      );
      assert.throws(() => db.exec("UPDATE alert_history SET actor = 'mallory'"), /append-only/);
      assert.throws(() => db.exec('DELETE FROM alert_history'), /append-only/);
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite path: a bare file name goes into the data dir, paths with a directory stay as given', () => {
  assert.equal(sqlitePath('alerts.db', '/var/lib/socstream'), '/var/lib/socstream/alerts.db');
  assert.equal(sqlitePath('.data/socstream.db', '/x'), '.data/socstream.db');
  assert.equal(sqlitePath('/abs/a.db', '/x'), '/abs/a.db');
});
