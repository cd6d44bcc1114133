/**
 * Malformed input at scale (issue 9): real Zeek JSON lines from ../shared/data (wrccdc2018, Zeek
 * 6.2; see /work/shared/data/SOURCES.md) mutated deterministically, then piped through
 * `socstream run` (embedded pipeline, stdin source) to the lake and the DLQ. The proof: the process
 * exits 0, accepted (distinct ids in the lake) + rejected (DLQ lines) = input lines, and every DLQ
 * line names its reason and position.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { LakeQuery } from '../../src/lake/query.ts';
import { isBlank } from '../../src/parsers/common.ts';

const DATA = '/work/shared/data/zeek-json/wrccdc2018-zeek6.2';
const FILES = ['dns.json', 'ssl.json', 'ntlm.json', 'smtp.json', 'rdp.json', 'weird.json', 'notice.json'];
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
export const MAX_LINE_BYTES = 8192;

export function dataMissing(): string | undefined {
  return existsSync(DATA) ? undefined : `${DATA} missing: malformed-input test NOT run`;
}

/** mulberry32: a tiny seeded PRNG, so a failing run is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (line: string, rnd: () => number) => string;
const pos = (line: string, rnd: () => number) => Math.floor(rnd() * line.length);

/**
 * Each mutation keeps the line non-empty and free of newlines (one input line stays one line).
 * `garbage` can still come out as whitespace only (a few lines per million): a blank line carries
 * no event and is neither accepted nor rejected (src/sources/lines.ts, parsers' SKIPPED), so the
 * accounting counts those apart (`blank`).
 */
export const MUTATIONS: Record<string, Mutation> = {
  unchanged: (l) => l,
  truncated: (l, r) => l.slice(0, Math.max(1, pos(l, r))),
  byte_flipped: (l, r) => {
    const i = pos(l, r);
    return `${l.slice(0, i)}${String.fromCharCode(33 + Math.floor(r() * 90))}${l.slice(i + 1)}`;
  },
  lone_surrogates: (l, r) => {
    const i = pos(l, r);
    return `${l.slice(0, i)}\udcff\ud800${l.slice(i)}`;
  },
  nul_bytes: (l, r) => {
    const i = pos(l, r);
    return `${l.slice(0, i)}\u0000\u0000${l.slice(i)}`;
  },
  wrong_types: (l) => l.replace(/"ts":[^,]+/, '"ts":{"nested":[1,2,3]}').replace(/"uid":"[^"]*"/, '"uid":42'),
  no_timestamp: (l) => l.replace(/"ts":[^,]+,/, ''),
  doubled: (l) => `${l}${l}`,
  not_json: (l) => l.replaceAll('"', "'"),
  json_array: () => '[1,2,3]',
  json_scalar: () => '"just a string"',
  huge: (l) => l.replace('{', `{"pad":"${'x'.repeat(MAX_LINE_BYTES)}",`),
  garbage: (_l, r) =>
    Array.from({ length: 1 + Math.floor(r() * 200) }, () => String.fromCharCode(1 + Math.floor(r() * 254)))
      .join('')
      .replaceAll('\n', ' ')
      .replaceAll('\r', ' ') || 'x',
  deep_nesting: () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
};
const NAMES = Object.keys(MUTATIONS);
/** Key of the blank-line count among the mutation counts. */
const BLANK = 'blank_lines';

function sourceLines(): string[] {
  const lines: string[] = [];
  for (const f of FILES) {
    for (const l of readFileSync(join(DATA, f), 'utf8').split('\n')) if (l.trim()) lines.push(l.trim());
  }
  return lines;
}

/** Writes `count` lines (half unchanged, half mutated) to `path`; returns the mutation counts. */
export async function writeMutatedInput(
  path: string,
  count: number,
  seed = 9,
): Promise<Record<string, number>> {
  const lines = sourceLines();
  const rnd = prng(seed);
  const counts: Record<string, number> = {};
  const out = createWriteStream(path);
  let chunk: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = lines[Math.floor(rnd() * lines.length)];
    const name = rnd() < 0.5 ? 'unchanged' : NAMES[1 + Math.floor(rnd() * (NAMES.length - 1))];
    counts[name] = (counts[name] ?? 0) + 1;
    const line = MUTATIONS[name](base, rnd);
    if (isBlank(line)) counts[BLANK] = (counts[BLANK] ?? 0) + 1;
    chunk.push(line);
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  out.end(chunk.length ? `${chunk.join('\n')}\n` : '');
  await new Promise<void>((r) => out.once('finish', () => r()));
  return counts;
}

export interface MalformedFigures {
  input: number;
  accepted: number;
  rejected: number;
  reasons: Record<string, number>;
  mutations: Record<string, number>;
  /** Input lines that are whitespace only: no event, no reject. */
  blank: number;
  exitCode: number | null;
  ms: number;
}

/** Pipes `count` mutated lines through `socstream run` (embedded) and checks the accounting. */
export async function malformedScenario(count: number): Promise<MalformedFigures> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'socstream-malformed-'));
  try {
    const input = join(dir, 'input.ndjson');
    const mutations = await writeMutatedInput(input, count);
    const config = {
      data_dir: dir,
      log_level: 'warn',
      sources: [{ type: 'stdin', name: 'mutated', format: 'zeek-json', max_line_bytes: MAX_LINE_BYTES }],
      lake: { dir: join(dir, 'lake'), flush_interval_seconds: 2 },
      alert_store: { sqlite_path: join(dir, 'alerts.db') },
      dlq: { path: join(dir, 'dlq.ndjson') },
      topics: { partitions: 2 },
    };
    writeFileSync(join(dir, 'socstream.yaml'), stringify(config));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCSTREAM_')));
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'run',
        '--config',
        join(dir, 'socstream.yaml'),
        '--role',
        'ingest,process,correlate,store',
        '--shutdown-timeout',
        '600000',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'], env },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    createReadStream(input).pipe(child.stdin as NodeJS.WritableStream);
    const exitCode = await exited;
    assert.equal(exitCode, 0, `socstream run exit code; stderr:\n${stderr}`);

    const reasons: Record<string, number> = {};
    let rejected = 0;
    const dlqPath = join(dir, 'dlq.ndjson');
    if (existsSync(dlqPath)) {
      // Streamed: at 1,000,000 input lines the DLQ (with the rejected lines) passes V8's string limit.
      for await (const l of createInterface({ input: createReadStream(dlqPath), crlfDelay: Infinity })) {
        if (!l) continue;
        const r = JSON.parse(l) as { reason?: string; position?: { kind: string } };
        assert.ok(r.reason, `DLQ line without a reason: ${l.slice(0, 200)}`);
        assert.ok(r.position?.kind, `DLQ line without a position: ${l.slice(0, 200)}`);
        reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
        rejected++;
      }
    }
    const lake = await LakeQuery.open({ lakeDir: join(dir, 'lake') });
    let accepted = 0;
    try {
      accepted = Number((await lake.query('select count(distinct id) from events')).rows[0][0]);
    } finally {
      lake.close();
    }
    const blank = mutations[BLANK] ?? 0;
    assert.equal(
      accepted + rejected + blank,
      count,
      `accepted ${accepted} + rejected ${rejected} + blank ${blank} ≠ input ${count}`,
    );
    assert.ok(
      rejected >= mutations.huge + mutations.garbage,
      'at least the huge and garbage lines are rejected',
    );
    return {
      input: count,
      accepted,
      rejected,
      blank,
      reasons,
      mutations,
      exitCode,
      ms: Date.now() - started,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The malformed-input guarantee at a given size: the short form (npm test) and the full form share it. */
export function malformedTest(lines: number): void {
  const skip = dataMissing();
  if (skip) process.stderr.write(`\n*** ${skip} ***\n\n`);
  test(`${lines} mutated lines: no crash, accepted + rejected (+ blank lines) = input, every reject in the DLQ with its reason`, {
    skip,
  }, async () => {
    const f = await malformedScenario(lines);
    process.stderr.write(`malformed: ${JSON.stringify(f)}\n`);
    assert.equal(f.exitCode, 0);
    assert.ok(f.rejected > 0 && f.accepted > 0);
    assert.equal(f.accepted + f.rejected + f.blank, lines);
  });
}
