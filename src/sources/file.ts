import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, glob, mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, matchesGlob } from 'node:path';
import { z } from 'zod';
import type { Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import { nameHint } from '../core/format-hint.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { type AckEntry, ContiguousAcks } from './acks.ts';
import { type FramedLine, LineFramer, toInputRecords } from './lines.ts';

/**
 * `file`: tail -F over paths and globs, with a checkpoint that only moves on ack.
 *
 * Files are known by identity (dev:ino), not by name, so:
 * - rotation by rename (`dns.log` → `dns.log.1`, new `dns.log`): the old file is read to its end
 *   (kept open `rotate_grace_ms` after its last byte, for writers that reopen late), then the new
 *   one from byte 0. After a crash mid-rotation the renamed file is found again by its inode in the
 *   same directory, so its unread tail is not lost even when the glob does not match the new name.
 * - rotation by truncation (copytruncate): size below our read offset restarts the file at 0 with a
 *   new generation; the generation is part of the file id, so the new lines get new ids.
 *   A truncate-and-regrow past the old offset between two polls is undetectable (as for tail -F).
 * - a reused inode, or a file rewritten while we were stopped: the checkpoint keeps a hash of the
 *   file's first bytes, and a file that no longer starts the same is read again from 0.
 * The checkpoint holds, per file identity, the offset of the next unread byte after the longest
 * acked prefix of batches; it is written atomically (tmp file, fsync, rename).
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

export const fileSourceConfig = z
  .object({
    type: z.literal('file'),
    name: d(
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/)
        .optional(),
      'Names the checkpoint file; defaults to a hash of `paths`',
    ),
    paths: d(z.array(z.string().min(1)).min(1), 'Files or globs (`/var/log/zeek/current/*.log`)'),
    exclude: d(
      z.array(z.string().min(1)).default([]),
      'Globs of paths to leave out (`/var/log/zeek/current/std*.log`)',
    ),
    format: d(
      z.string().optional(),
      'Parser format for every file (`format` or `format:log_type`); default: detected. The file name gives the log type',
    ),
    start_at: d(
      z.enum(['beginning', 'end']).default('beginning'),
      'Where a file without a checkpoint starts, for files present at startup; files appearing later start at 0',
    ),
    max_line_bytes: d(
      z.number().int().positive().default(1_048_576),
      'Longer lines are cut to this and marked too long (rejected as line_too_long)',
    ),
    poll_interval_ms: d(
      z.number().int().positive().default(250),
      'How often globs are re-listed and idle files re-checked; fs.watch only wakes the poller early',
    ),
    read_chunk_bytes: d(z.number().int().min(4096).default(262_144), 'Bytes read per file per batch'),
    rotate_grace_ms: d(
      z.number().int().min(0).default(2000),
      'A renamed-away file stays open this long after its last byte, for writers that reopen late',
    ),
    checkpoint_dir: d(z.string().optional(), 'Default: <data_dir>/checkpoints'),
  })
  .strict();

export type FileSourceConfig = z.infer<typeof fileSourceConfig>;

interface CheckpointEntry {
  path: string;
  offset: number;
  generation: number;
  /** Birth time (see birthOf): tells a reused inode from the same file where the filesystem has one. */
  birth?: string;
  /** SHA-256 (hex) of the file's first `head_bytes` bytes: catches rewrites, and reused inodes elsewhere. */
  head?: string;
  head_bytes?: number;
}

interface CheckpointFile {
  version: 1;
  files: Record<string, CheckpointEntry>;
}

interface PendingRange {
  generation: number;
  end: number;
}

interface TrackedFile {
  key: string;
  path: string;
  handle: FileHandle | null;
  framer: LineFramer;
  readOffset: number;
  committed: number;
  generation: number;
  fileId: string;
  formatHint: string | undefined;
  acks: ContiguousAcks<PendingRange>;
  /** The path no longer names this file: read to the end, then close. */
  rotated: boolean;
  eofSinceMs: number;
  head: string;
  headBytes: number;
  birth: string;
}

/**
 * Bytes fingerprinted at the start of each file. Zeek logs share their first ~100 header bytes but
 * differ by `#open` time within this many; other logs differ by their first line.
 */
const HEAD_BYTES = 1024;

function headHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readHead(handle: FileHandle): Promise<Buffer> {
  const buf = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
  return buf.subarray(0, bytesRead);
}

/** Whether the file still starts as it did when checkpointed (unknown counts as the same). */
function sameHead(head: Buffer, saved: CheckpointEntry): boolean {
  if (saved.head === undefined || saved.head_bytes === undefined) return true;
  if (head.length < saved.head_bytes) return false;
  return headHash(head.subarray(0, saved.head_bytes)) === saved.head;
}

const GLOB_CHARS = /[*?[{]/;

/** Log type hint from a file name: `dns.log` → dns, `conn.00:00:00-01:00:00.log.gz` → conn, `eve.json` → eve. */
export function logTypeHintFromPath(path: string): string | undefined {
  const stem = basename(path).split('.')[0];
  return stem ? stem : undefined;
}

/**
 * The format hint for a file (core/format-hint.ts): the configured format (`auto` when none:
 * detected from the data) with the file name's log type as a hint, `auto@dns`, `json@firewall`. A
 * name is only a hint: Zeek JSON without `_path`, headerless Zeek TSV and generic JSON take it for
 * lines of their own shape; a file `all.log` may hold any format. A configured format that carries
 * a log type (`json:firewall`) is kept as it is: that log type is the user's word.
 */
export function formatHintFor(format: string | undefined, path: string): string | undefined {
  return nameHint(format, logTypeHintFromPath(path));
}

/**
 * The file id in positions (and so in event ids): dev:ino, its birth time where the filesystem
 * records one (a new file reusing a freed inode gets new ids), and the generation (truncations).
 */
function fileIdOf(key: string, birth: string, generation: number): string {
  const id = birth ? `${key}@${birth}` : key;
  return generation === 0 ? id : `${id}:g${generation}`;
}

/** The id the file source gives a file it has not seen truncated: for tools (parse) to match its ids. */
export function fileIdFor(st: { dev: number; ino: number; birthtimeMs: number }): string {
  return fileIdOf(`${st.dev}:${st.ino}`, birthOf(st), 0);
}

/** Birth time in µs, base 36; '' where the filesystem has none (Node reports 0). */
function birthOf(st: { birthtimeMs: number }): string {
  return st.birthtimeMs > 0 ? Math.round(st.birthtimeMs * 1000).toString(36) : '';
}

/** The directory a pattern's matches live under (the part before the first glob character). */
function watchDirOf(pattern: string): string {
  const m = GLOB_CHARS.exec(pattern);
  return m ? dirname(pattern.slice(0, m.index + 1)) : dirname(pattern);
}

export async function readCheckpoint(path: string): Promise<CheckpointFile> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as CheckpointFile;
    if (doc && doc.version === 1 && doc.files && typeof doc.files === 'object') return doc;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { version: 1, files: {} };
}

/** Atomic replace: a crash leaves either the old or the new checkpoint, never a torn one. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  // The rename itself is durable only once the directory entry is synced.
  const dir = await open(dirname(path), 'r').catch(() => null);
  if (dir)
    await dir
      .sync()
      .catch(() => {})
      .finally(() => dir.close());
}

class FileSource implements Source {
  readonly #config: FileSourceConfig;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #checkpointPath: string;
  readonly #label: string;
  readonly #files = new Map<string, TrackedFile>();
  #checkpoint: CheckpointFile = { version: 1, files: {} };
  #started = false;
  #stopped = false;
  #firstScan = true;
  #lastDiscoverMs = 0;
  #watchers: FSWatcher[] = [];
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  #writing: Promise<void> | null = null;
  #readBuffer: Buffer;

  constructor(config: FileSourceConfig, ctx: { logger: Logger; telemetry: Telemetry; dataDir: string }) {
    this.#config = config;
    const name =
      config.name ?? createHash('sha256').update(config.paths.join('\0')).digest('hex').slice(0, 12);
    this.#label = `file:${name}`;
    this.#logger = ctx.logger.child({ component: 'source.file', name });
    this.#telemetry = ctx.telemetry;
    this.#checkpointPath = join(
      config.checkpoint_dir ?? join(ctx.dataDir, 'checkpoints'),
      `file-${name}.json`,
    );
    this.#readBuffer = Buffer.allocUnsafe(config.read_chunk_bytes);
  }

  get checkpointPath(): string {
    return this.#checkpointPath;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await mkdir(dirname(this.#checkpointPath), { recursive: true });
    this.#checkpoint = await readCheckpoint(this.#checkpointPath);
    for (const dir of new Set(this.#config.paths.map(watchDirOf))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.#wake?.());
        w.on('error', () => w.close());
        this.#watchers.push(w);
      } catch {
        // The directory may not exist yet; polling will find files once it does.
      }
    }
  }

  async healthcheck(): Promise<Health> {
    if (!this.#started || this.#stopped) return { ok: false, detail: 'not running' };
    return { ok: true, detail: `${this.#files.size} file(s) followed` };
  }

  async flush(): Promise<void> {
    if (this.#writing) await this.#writing;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.flush();
    for (const f of this.#files.values()) await this.#closeHandle(f);
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    await this.start();
    while (!this.#stopped) {
      const now = Date.now();
      if (now - this.#lastDiscoverMs >= this.#config.poll_interval_ms) {
        this.#lastDiscoverMs = now;
        await this.#discover();
      }
      let progressed = false;
      for (const f of [...this.#files.values()]) {
        if (this.#stopped) break;
        const result = await this.#readChunk(f);
        if (result === null) continue;
        progressed = true;
        if (result.records.length) yield result;
      }
      if (!progressed && !this.#stopped) await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.#wake = null;
        resolve();
      };
      this.#wake = done;
      this.#timer = setTimeout(done, this.#config.poll_interval_ms);
    });
  }

  async #matchPaths(): Promise<string[]> {
    const out = new Set<string>();
    for (const pattern of this.#config.paths) {
      if (!GLOB_CHARS.test(pattern)) {
        out.add(pattern);
        continue;
      }
      for await (const p of glob(pattern)) out.add(p);
    }
    const exclude = this.#config.exclude;
    return exclude.length ? [...out].filter((p) => !exclude.some((x) => matchesGlob(p, x))) : [...out];
  }

  async #discover(): Promise<void> {
    const seen = new Set<string>();
    for (const path of await this.#matchPaths()) {
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(path);
      } catch {
        continue; // gone between listing and stat, or not there yet
      }
      if (!st.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      seen.add(key);
      const known = this.#files.get(key);
      if (known?.handle) {
        known.path = path;
        known.rotated = false;
        continue;
      }
      if (known) {
        // We had closed it (gone from the globs, read to its end) and the inode is back: the same
        // file (renamed back: resume after its last acked line) or a new one reusing the inode
        // (its first bytes differ: read from 0 as a new generation).
        this.#files.delete(key);
        await this.#track(
          key,
          path,
          known.committed,
          known.generation,
          false,
          this.#entryOf(known, known.committed),
        );
        continue;
      }
      const saved = this.#checkpoint.files[key];
      if (saved) await this.#track(key, path, saved.offset, saved.generation, false, saved);
      else {
        const offset = this.#firstScan && this.#config.start_at === 'end' ? st.size : 0;
        await this.#track(key, path, offset, 0, false);
      }
    }
    if (this.#firstScan) await this.#recoverRotated(seen);
    this.#firstScan = false;
    for (const f of this.#files.values()) if (!seen.has(f.key)) f.rotated = true;
  }

  /** Checkpointed files no pattern matches any more: renamed while we were down; find them by inode. */
  async #recoverRotated(seen: Set<string>): Promise<void> {
    for (const [key, entry] of Object.entries(this.#checkpoint.files)) {
      if (seen.has(key)) continue;
      const found = await findByIdentity(dirname(entry.path), key);
      const same = found && (entry.birth === undefined || entry.birth === found.birth);
      if (found && same && found.size > entry.offset && (await startsAsBefore(found.path, entry))) {
        this.#logger.info(
          { path: found.path, offset: entry.offset },
          'resuming a file rotated while stopped',
        );
        await this.#track(key, found.path, entry.offset, entry.generation, true, entry);
      } else delete this.#checkpoint.files[key];
    }
  }

  /**
   * Starts following a file. With a checkpoint entry (`saved`), resumes at its offset unless the
   * file is now shorter (truncated while we were down) or starts differently (a reused inode, or
   * rewritten): then it is a new generation read from 0.
   */
  async #track(
    key: string,
    path: string,
    offset: number,
    generation: number,
    rotated: boolean,
    saved?: CheckpointEntry,
  ) {
    let handle: FileHandle;
    let head: Buffer;
    let size: number;
    let birth: string;
    try {
      handle = await open(path, 'r');
      head = await readHead(handle);
      const st = await handle.stat();
      size = st.size;
      birth = birthOf(st);
    } catch (err) {
      this.#logger.warn({ path, err: (err as Error).message }, 'cannot open file');
      return;
    }
    if (saved?.birth !== undefined && saved.birth !== birth) {
      // Another file reusing the inode: its own birth time already gives it its own ids.
      this.#logger.info({ path }, 'new file on a reused inode, reading it from 0');
      offset = 0;
      generation = 0;
    } else if (saved && (size < saved.offset || !sameHead(head, saved))) {
      this.#logger.info({ path, checkpoint: saved.offset }, 'file changed while stopped, reading it from 0');
      offset = 0;
      generation++;
    }
    this.#files.set(key, {
      key,
      path,
      handle,
      framer: new LineFramer(this.#config.max_line_bytes, offset),
      readOffset: offset,
      committed: offset,
      generation,
      fileId: fileIdOf(key, birth, generation),
      formatHint: formatHintFor(this.#config.format, path),
      acks: new ContiguousAcks<PendingRange>(),
      rotated,
      eofSinceMs: 0,
      head: headHash(head),
      headBytes: head.length,
      birth,
    });
    this.#checkpoint.files[key] = this.#entryOf(this.#files.get(key)!, offset);
    this.#logger.info({ path, offset, generation }, 'following file');
  }

  #entryOf(f: TrackedFile, offset: number): CheckpointEntry {
    const entry: CheckpointEntry = { path: f.path, offset, generation: f.generation, birth: f.birth };
    if (f.headBytes > 0) {
      entry.head = f.head;
      entry.head_bytes = f.headBytes;
    }
    return entry;
  }

  /** Reads one chunk; null when there was nothing to read. */
  async #readChunk(f: TrackedFile): Promise<SourceBatch | null> {
    if (!f.handle) return null;
    let bytesRead: number;
    try {
      if (!f.rotated) {
        const { size } = await f.handle.stat();
        if (size < f.readOffset) this.#truncated(f);
      }
      ({ bytesRead } = await f.handle.read(this.#readBuffer, 0, this.#readBuffer.length, f.readOffset));
    } catch (err) {
      if (!this.#stopped) this.#logger.warn({ path: f.path, err: (err as Error).message }, 'read failed');
      return null;
    }
    const lines: FramedLine[] = [];
    if (bytesRead === 0) {
      if (!f.rotated) return null;
      const now = Date.now();
      if (f.eofSinceMs === 0) f.eofSinceMs = now;
      if (now - f.eofSinceMs < this.#config.rotate_grace_ms) return null;
      // The renamed-away file is finished: its unterminated last line is still a line.
      f.framer.end(lines);
      f.readOffset = f.framer.lineStart;
      await this.#closeHandle(f);
      if (!lines.length) {
        this.#forgetIfDone(f);
        return null;
      }
    } else {
      f.eofSinceMs = 0;
      if (f.readOffset === 0 && f.headBytes < HEAD_BYTES) {
        // A file that was empty or truncated: fingerprint its new start.
        f.headBytes = Math.min(bytesRead, HEAD_BYTES);
        f.head = headHash(this.#readBuffer.subarray(0, f.headBytes));
      }
      f.framer.push(this.#readBuffer.subarray(0, bytesRead), lines);
      f.readOffset += bytesRead;
    }
    return this.#toBatch(f, lines);
  }

  #truncated(f: TrackedFile): void {
    f.generation++;
    f.fileId = fileIdOf(f.key, f.birth, f.generation);
    f.acks.clear();
    f.framer.reset(0);
    f.readOffset = 0;
    f.committed = 0;
    f.headBytes = 0;
    this.#checkpoint.files[f.key] = this.#entryOf(f, 0);
    this.#logger.info({ path: f.path, generation: f.generation }, 'file truncated, restarting at 0');
    void this.#saveCheckpoint();
  }

  #toBatch(f: TrackedFile, lines: FramedLine[]): SourceBatch {
    const records = toInputRecords(lines, f.formatHint, (line) => ({
      kind: 'file',
      path: f.path,
      fileId: f.fileId,
      offset: line.offset,
    }));
    if (records.length) this.#telemetry.sourceRecords.inc({ source: this.#label }, records.length);
    const entry = f.acks.add({ generation: f.generation, end: f.framer.lineStart });
    // A chunk of blank lines (or the middle of a long line) carries no record: acked at once.
    if (!records.length) {
      this.#acked(f, entry);
      return { records, ack: async () => {} };
    }
    return {
      records,
      ack: async () => {
        this.#acked(f, entry);
      },
    };
  }

  /**
   * Moves the checkpoint to the end of the acked prefix. The write happens in the background
   * (one in flight at a time, later acks coalesced into the next), so reading is not paced by
   * fsync latency: a crash before it lands only re-delivers lines, with the same ids.
   * `flush()` and `stop()` wait for it.
   */
  #acked(f: TrackedFile, entry: AckEntry<PendingRange>): void {
    const released = f.acks.ack(entry);
    if (!released.length) return;
    const last = released[released.length - 1];
    if (last.generation !== f.generation || last.end <= f.committed) return;
    f.committed = last.end;
    if (this.#files.get(f.key) === f) {
      this.#checkpoint.files[f.key] = this.#entryOf(f, f.committed);
    }
    this.#forgetIfDone(f);
    void this.#saveCheckpoint();
  }

  /** A closed, rotated file whose batches are all acked leaves the checkpoint. */
  #forgetIfDone(f: TrackedFile): void {
    // After stop() every handle is closed, but the files are not gone: late acks (the in-process
    // bus acks once consumers committed) only move their checkpoints.
    if (f.handle || f.acks.size > 0 || this.#stopped) return;
    if (this.#files.get(f.key) === f) this.#files.delete(f.key);
    delete this.#checkpoint.files[f.key];
    void this.#saveCheckpoint();
  }

  async #closeHandle(f: TrackedFile): Promise<void> {
    const h = f.handle;
    f.handle = null;
    if (h) await h.close().catch(() => {});
  }

  /** Coalesces writes: every caller's state is on disk when its promise resolves. */
  #saveCheckpoint(): Promise<void> {
    this.#dirty = true;
    if (!this.#writing) this.#writing = this.#drainWrites();
    return this.#writing;
  }

  async #drainWrites(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        await writeFileAtomic(this.#checkpointPath, JSON.stringify(this.#checkpoint));
      }
    } catch (err) {
      this.#logger.error({ err: (err as Error).message }, 'checkpoint write failed');
    } finally {
      this.#writing = null;
    }
  }
}

async function startsAsBefore(path: string, entry: CheckpointEntry): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      return sameHead(await readHead(fh), entry);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

async function findByIdentity(
  dir: string,
  key: string,
): Promise<{ path: string; size: number; birth: string } | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (st.isFile() && `${st.dev}:${st.ino}` === key) return { path, size: st.size, birth: birthOf(st) };
    } catch {
      // raced with a delete
    }
  }
  return null;
}

export const fileSource: SourceDefinition<FileSourceConfig> = {
  type: 'file',
  kind: 'source',
  summary: 'Follows files and globs like tail -F, with an ack-driven checkpoint',
  config: fileSourceConfig,
  example: { type: 'file', paths: ['/var/log/zeek/current/*.log'] },
  create: (config, ctx) => new FileSource(config, ctx),
};
