import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { eventId, positionKey, stableId } from '../../src/core/ids.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);

test('eventId is 128 bits of SHA-256 over the position key, base64url (ids stay stable across versions)', () => {
  const pos = { kind: 'kafka', topic: 'socstream.raw.zeek', partition: 3, offset: '12345' } as const;
  assert.equal(positionKey(pos), 'kafka:socstream.raw.zeek:3:12345');
  assert.equal(eventId(pos), sha('kafka:socstream.raw.zeek:3:12345'));
  assert.equal(eventId(pos, 2), sha('kafka:socstream.raw.zeek:3:12345#2'));
  assert.match(eventId(pos), /^[A-Za-z0-9_-]{22}$/);
  // A frozen value: changing the hash would re-id every stored event.
  assert.equal(eventId({ kind: 'stream', name: 'x', sequence: 0 }), 'qfZ16iDyJEFmS_gPVvJPD9');
  assert.equal(eventId({ kind: 'file', path: '/a', fileId: 'f1', offset: 10 }), sha('file:f1:10'));
});

test('eventId differs for different positions and indexes', () => {
  const a = eventId({ kind: 'stream', name: 'bench', sequence: 1 });
  const b = eventId({ kind: 'stream', name: 'bench', sequence: 2 });
  assert.notEqual(a, b);
  assert.notEqual(eventId({ kind: 'stream', name: 'bench', sequence: 1 }, 1), a);
});

test('stableId hashes its parts joined by NUL', () => {
  assert.equal(stableId('rule', 'group', 5), sha('rule\u0000group\u00005'));
});
