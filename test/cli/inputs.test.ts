import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkInputFiles, checkLakeDir } from '../../src/cli/inputs.ts';
import { pathUsageError } from '../../src/cli/run-action.ts';
import { UsageError } from '../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-inputs-'));
const file = join(dir, 'a.log');
writeFileSync(file, 'x\n');
after(() => rmSync(dir, { recursive: true, force: true }));

test('input files: stdin and files pass; a missing file or a directory is a usage error naming it', () => {
  checkInputFiles(['-', file]);
  assert.throws(() => checkInputFiles([join(dir, 'b.log')]), {
    name: 'UsageError',
    message: `cannot read ${join(dir, 'b.log')}: no such file or directory`,
  });
  assert.throws(() => checkInputFiles([dir]), /a directory \(give the files/);
});

test('a lake root must be an existing directory; the message names the flag and the path', () => {
  checkLakeDir(dir);
  assert.throws(
    () => checkLakeDir(join(dir, 'lake')),
    /^UsageError: --lake .*: the lake is missing \(no such file or directory\)/,
  );
  assert.throws(
    () => checkLakeDir(file, 'lake.dir'),
    /lake\.dir .*: the lake is missing \(not a directory\)/,
  );
});

test('a file-system error about a path becomes the same usage error; other errors stay as they are', () => {
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x/y' });
  const e = pathUsageError(enoent);
  assert.ok(e instanceof UsageError);
  assert.equal(e.message, 'cannot read /x/y: ENOENT');
  assert.equal(pathUsageError(new Error('boom')), null);
  assert.equal(pathUsageError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), null);
});
