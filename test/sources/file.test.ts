import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SourceBatch } from '../../src/core/component.ts';
import { eventId } from '../../src/core/ids.ts';
import {
  type FileSourceConfig,
  fileIdFor,
  fileSource,
  formatHintFor,
  logTypeHintFromPath,
} from '../../src/sources/file.ts';
import { collect, FIXTURES, fixtureLines, tempDir, testContext, texts } from './helpers.ts';

const sshd = fixtureLines('sshd.log');
const dns = fixtureLines('dns.log');

function source(dir: string, extra: Partial<FileSourceConfig> & { paths: string[] }) {
  const config = fileSource.config.parse({
    type: 'file',
    name: 'test',
    poll_interval_ms: 20,
    rotate_grace_ms: 50,
    checkpoint_dir: join(dir, 'cp'),
    ...extra,
  });
  const src = fileSource.create(config, testContext(dir));
  return { src, it: src.batches()[Symbol.asyncIterator](), checkpoint: join(dir, 'cp', 'file-test.json') };
}

const count = (n: number) => (b: SourceBatch[]) => texts(b).length >= n;

function savedOffset(path: string): number {
  if (!existsSync(path)) return 0;
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  return Object.values(doc.files as Record<string, { offset: number }>)[0]?.offset ?? -1;
}

test('reads a file from the beginning with file positions, name hints and deterministic ids', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'dns.log');
  copyFileSync(new URL('dns.log', FIXTURES), path);
  const { src, it } = source(dir, { paths: [join(dir, '*.log')] });
  t.after(() => src.stop());
  const batches = await collect(it, count(dns.length));
  const records = batches.flatMap((b) => b.records);
  assert.deepEqual(
    records.map((r) => r.text),
    dns,
  );
  const st = statSync(path);
  assert.deepEqual(records[1].position, {
    kind: 'file',
    path,
    fileId: fileIdFor(st),
    offset: Buffer.byteLength(`${dns[0]}\n`),
  });
  assert.equal(records[0].formatHint, 'auto@dns');
  assert.match(fileIdFor(st), /^\d+:\d+@[0-9a-z]+$/);
  assert.equal(eventId(records[1].position), eventId({ ...records[1].position, path: '/elsewhere' }));
});

test("the format hint is format@name: the file name's log type is a hint, a configured log type wins", () => {
  assert.equal(formatHintFor(undefined, '/var/log/zeek/current/dns.log'), 'auto@dns');
  assert.equal(formatHintFor('json', '/var/log/fw/firewall.json'), 'json@firewall');
  assert.equal(formatHintFor('json:fw', '/var/log/fw/firewall.json'), 'json:fw');
});

test('logTypeHintFromPath takes the first dotted part of the name', () => {
  assert.equal(logTypeHintFromPath('/var/log/zeek/current/conn.log'), 'conn');
  assert.equal(logTypeHintFromPath('/x/conn.00:00:00-01:00:00.log.gz'), 'conn');
  assert.equal(logTypeHintFromPath('/var/log/suricata/eve.json'), 'eve');
});

test('start_at end skips what is there and follows appends; a configured format wins over the name', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd.slice(0, 3).join('\n')}\n`);
  const { src, it } = source(dir, { paths: [path], start_at: 'end', format: 'sshd' });
  t.after(() => src.stop());
  await src.start();
  const first = it.next();
  await new Promise((r) => setTimeout(r, 100));
  appendFileSync(path, `${sshd[3]}\n${sshd[4]}\n`);
  const got = await first;
  assert.ok(!got.done);
  assert.deepEqual(
    got.value.records.map((r) => r.text),
    [sshd[3], sshd[4]],
  );
  assert.equal(got.value.records[0].formatHint, 'sshd@auth');
});

test('the checkpoint advances only on ack, to the end of the longest acked prefix', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  const { src, it, checkpoint } = source(dir, { paths: [path], read_chunk_bytes: 4096 });
  t.after(() => src.stop());
  // Three appends read as three batches.
  const batches: SourceBatch[] = [];
  for (const line of sshd.slice(0, 3)) {
    appendFileSync(path, `${line}\n`);
    batches.push(...(await collect(it, (b) => b.length >= 1, { ack: false })));
  }
  assert.equal(batches.length, 3);
  await src.flush();
  assert.equal(savedOffset(checkpoint), 0);
  const end = (i: number) => Buffer.byteLength(sshd.slice(0, i + 1).join('\n')) + 1;
  await batches[2].ack();
  await batches[1].ack();
  await src.flush();
  assert.equal(savedOffset(checkpoint), 0, 'first batch still unacked');
  await batches[0].ack();
  await src.flush();
  assert.equal(savedOffset(checkpoint), end(2));
});

test('a restart resumes from the checkpoint and re-delivers unacked lines with the same ids', async () => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd.slice(0, 4).join('\n')}\n`);
  const one = source(dir, { paths: [path], read_chunk_bytes: 4096 });
  const firstRun = await collect(one.it, count(4), { ack: false });
  await firstRun[0].ack();
  appendFileSync(path, `${sshd[4]}\n`);
  await one.src.stop();
  const two = source(dir, { paths: [path], read_chunk_bytes: 4096 });
  const again = await collect(two.it, count(1));
  await two.src.stop();
  // Everything was one batch and it was acked: the restart starts after it.
  assert.deepEqual(texts(again), [sshd[4]]);

  const dir2 = tempDir();
  const path2 = join(dir2, 'auth.log');
  writeFileSync(path2, `${sshd.slice(0, 2).join('\n')}\n`);
  const three = source(dir2, { paths: [path2] });
  const unacked = await collect(three.it, count(2), { ack: false });
  await three.src.stop();
  const four = source(dir2, { paths: [path2] });
  const redelivered = await collect(four.it, count(2));
  await four.src.stop();
  const ids = (b: SourceBatch[]) => b.flatMap((x) => x.records.map((r) => eventId(r.position)));
  assert.deepEqual(texts(redelivered), sshd.slice(0, 2));
  assert.deepEqual(ids(redelivered), ids(unacked));
});

test('rotation by rename: the old file is read to its end, then the new one from 0', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n`);
  const { src, it } = source(dir, { paths: [path] });
  t.after(() => src.stop());
  const got = await collect(it, count(1));
  renameSync(path, `${path}.1`);
  appendFileSync(`${path}.1`, `${sshd[1]}\n`); // the writer still had the old file open
  writeFileSync(path, `${sshd[2]}\n${sshd[3]}`); // new file; last line not terminated yet
  got.push(...(await collect(it, count(2))));
  appendFileSync(path, '\n');
  got.push(...(await collect(it, count(1))));
  assert.deepEqual(texts(got).sort(), sshd.slice(0, 4).sort());
  const fileIds = new Set(
    got.flatMap((b) => b.records.map((r) => (r.position.kind === 'file' ? r.position.fileId : ''))),
  );
  assert.equal(fileIds.size, 2);
});

test('rotation by truncation restarts at 0 with a new file id generation', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n${sshd[1]}\n`);
  const { src, it } = source(dir, { paths: [path] });
  t.after(() => src.stop());
  const before = await collect(it, count(2));
  truncateSync(path, 0);
  await new Promise((r) => setTimeout(r, 80));
  appendFileSync(path, `${sshd[2]}\n`);
  const after = await collect(it, count(1));
  assert.deepEqual(texts(after), [sshd[2]]);
  const [a] = before[0].records;
  const [b] = after[0].records;
  assert.equal(a.position.kind === 'file' && a.position.offset, 0);
  assert.equal(b.position.kind === 'file' && b.position.offset, 0);
  assert.notEqual(eventId(a.position), eventId(b.position));
});

test('a glob picks up files created after start, minus the excluded ones', async (t) => {
  const dir = tempDir();
  const { src, it } = source(dir, { paths: [join(dir, '*.log')], exclude: [join(dir, 'std*.log')] });
  t.after(() => src.stop());
  await src.start();
  const pending = collect(it, count(2));
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(join(dir, 'ssh.log'), `${sshd[0]}\n`);
  writeFileSync(join(dir, 'dns.log'), `${dns[0]}\n`);
  writeFileSync(join(dir, 'ignored.txt'), 'not matched\n');
  writeFileSync(join(dir, 'stderr.log'), 'excluded\n');
  const got = await pending;
  assert.deepEqual(texts(got).sort(), [dns[0], sshd[0]].sort());
  const extra = await Promise.race([it.next(), new Promise((r) => setTimeout(() => r('nothing more'), 300))]);
  assert.equal(extra, 'nothing more');
});

test('a 50 MB line and binary garbage neither crash nor stall: the line after them arrives', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'big.log');
  const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
  writeFileSync(path, big);
  appendFileSync(path, Buffer.from([0x0a, 0x00, 0xff, 0xfe, 0x80, 0x0a]));
  appendFileSync(path, `${sshd[0]}\n`);
  const { src, it } = source(dir, { paths: [path], max_line_bytes: 65_536 });
  t.after(() => src.stop());
  const got = await collect(it, count(3), { timeoutMs: 20_000 });
  const records = got.flatMap((b) => b.records);
  assert.equal(records[0].tooLong, true);
  assert.equal(records[0].byteLength, big.length);
  assert.equal(records[0].text.length, 65_536);
  assert.equal(records[1].text, '\u0000\uFFFD\uFFFD\uFFFD');
  assert.equal(records[1].byteLength, 4);
  assert.equal(records[2].text, sshd[0]);
});

test('a file rewritten while stopped (same inode, longer, different start) is read again from 0 with new ids', async () => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n${sshd[1]}\n`);
  const one = source(dir, { paths: [path] });
  const first = await collect(one.it, count(2));
  await one.src.stop();
  const inode = statSync(path).ino;
  // Same inode, new content longer than the checkpoint offset: only the fingerprint can tell.
  writeFileSync(path, `${sshd[5]}\n${sshd[4]}\n${sshd[2]}\n${sshd[3]}\n`);
  assert.equal(statSync(path).ino, inode);
  const two = source(dir, { paths: [path] });
  const second = await collect(two.it, count(4));
  await two.src.stop();
  assert.deepEqual(texts(second), [sshd[5], sshd[4], sshd[2], sshd[3]]);
  const firstId = eventId(first[0].records[0].position);
  assert.notEqual(eventId(second[0].records[0].position), firstId);
});

test('an unchanged file resumes at its checkpoint even when it was small at first', async () => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n`);
  const one = source(dir, { paths: [path] });
  await collect(one.it, count(1));
  appendFileSync(path, `${sshd[1]}\n`);
  await collect(one.it, count(1));
  await one.src.stop();
  appendFileSync(path, `${sshd[2]}\n`);
  const two = source(dir, { paths: [path] });
  const got = await collect(two.it, count(1));
  await two.src.stop();
  assert.deepEqual(texts(got), [sshd[2]]);
});

test('a deleted file replaced by a new one (even on the same inode) gets new ids', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n`);
  const { src, it } = source(dir, { paths: [path] });
  t.after(() => src.stop());
  const first = await collect(it, count(1));
  const inode = statSync(path).ino;
  rmSync(path);
  await new Promise((r) => setTimeout(r, 200)); // read to its end and closed after the grace period
  writeFileSync(path, `${sshd[3]}\n${sshd[4]}\n`);
  const second = await collect(it, count(2));
  assert.deepEqual(texts(second), [sshd[3], sshd[4]]);
  assert.notEqual(eventId(second[0].records[0].position), eventId(first[0].records[0].position));
  t.diagnostic(statSync(path).ino === inode ? 'the inode was reused' : 'a new inode was allocated');
});

test('a file that leaves the glob and comes back unchanged resumes where it was', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'auth.log');
  writeFileSync(path, `${sshd[0]}\n`);
  const { src, it } = source(dir, { paths: [path] });
  t.after(() => src.stop());
  await collect(it, count(1));
  renameSync(path, join(dir, 'away.txt'));
  await new Promise((r) => setTimeout(r, 200));
  appendFileSync(join(dir, 'away.txt'), `${sshd[1]}\n`);
  renameSync(join(dir, 'away.txt'), path);
  const got = await collect(it, count(1));
  assert.deepEqual(texts(got), [sshd[1]]);
});
