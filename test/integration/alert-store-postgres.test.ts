/**
 * The alert-store contract on a real PostgreSQL (127.0.0.1:5432, database `test`, trust auth).
 * Each run uses a random schema, dropped afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { createAlertStore } from '../../src/pipeline/alerts.ts';
import { PostgresAlertStore } from '../../src/sinks/alert-store-postgres.ts';
import { alertStoreContract, makeAlert } from '../sinks/alert-store-contract.ts';

const URL = process.env.SOCSTREAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

alertStoreContract('postgres', async () => {
  const schema = `socstream_test_${randomBytes(6).toString('hex')}`;
  return {
    open: () => new PostgresAlertStore({ connectionString: URL, schema }),
    cleanup: () => dropSchema(schema),
  };
});

test('postgres: migrations are versioned, applied once, and the history is append-only', async () => {
  const schema = `socstream_test_${randomBytes(6).toString('hex')}`;
  try {
    const stores = [0, 1, 2].map(() =>
      createAlertStore({ type: 'postgres', sqlite_path: 'x', postgres_url: URL }, '/tmp', { schema }),
    );
    // Three processes starting at once: the advisory lock serializes the migration.
    await Promise.all(stores.map((s) => s.start()));
    await stores[0].upsert([makeAlert(1)]);
    for (const s of stores) await s.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version, name FROM "${schema}".socstream_migrations`);
      assert.deepEqual(rows, [{ version: 1, name: 'alerts and history' }]);
      await assert.rejects(
        client.query(`UPDATE "${schema}".alert_history SET actor = 'mallory'`),
        /append-only/,
      );
      await assert.rejects(client.query(`DELETE FROM "${schema}".alert_history`), /append-only/);
    } finally {
      await client.end();
    }
  } finally {
    await dropSchema(schema);
  }
});
