import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { createTokenTable, roleAllows, sha256Hex, tokensFromEnv } from '../../src/serve/auth.ts';

test('roles are ordered viewer < analyst < admin', () => {
  assert.equal(roleAllows('viewer', 'viewer'), true);
  assert.equal(roleAllows('viewer', 'analyst'), false);
  assert.equal(roleAllows('analyst', 'viewer'), true);
  assert.equal(roleAllows('analyst', 'admin'), false);
  assert.equal(roleAllows('admin', 'analyst'), true);
});

test('tokens from config (digest or clear) and from SOCSTREAM_TOKEN_<NAME> authenticate as their principal', () => {
  const table = createTokenTable(
    [
      { name: 'dana', role: 'analyst', sha256: sha256Hex('dana-secret-0123456789') },
      { name: 'ops', role: 'admin', token: 'ops-secret-0123456789' },
    ],
    { SOCSTREAM_TOKEN_WATCHER: 'viewer:watcher-secret-012345', PATH: '/bin' },
  );
  assert.equal(table.size(), 3);
  assert.deepEqual(table.authenticate('Bearer dana-secret-0123456789'), {
    name: 'dana',
    role: 'analyst',
    tokenHash: sha256Hex('dana-secret-0123456789'),
  });
  assert.equal(table.authenticate('Bearer ops-secret-0123456789')?.role, 'admin');
  assert.equal(table.authenticate('Bearer watcher-secret-012345')?.name, 'watcher');
  assert.equal(table.authenticate('Bearer ops-secret-012345678'), null, 'a prefix is not the token');
  assert.equal(table.authenticate('ops-secret-0123456789'), null, 'not a Bearer header');
  assert.equal(table.authenticate(undefined), null);
});

test('a malformed SOCSTREAM_TOKEN_ value or a token entry without secret is a config error with the fix', () => {
  for (const value of ['viewer', 'root:abcdefghijklmnopq', 'viewer:short']) {
    assert.throws(
      () => tokensFromEnv({ SOCSTREAM_TOKEN_X: value }),
      (err: unknown) => err instanceof ConfigError && /SOCSTREAM_TOKEN_X: expected/.test(err.message),
    );
  }
  assert.throws(
    () => createTokenTable([{ name: 'x', role: 'viewer' }]),
    /serve.tokens\[0\]: needs sha256 or token/,
  );
});
