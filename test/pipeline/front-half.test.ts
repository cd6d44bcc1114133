/**
 * One front half (src/pipeline/processor.ts + read-input.ts): the same files give the same
 * envelopes, rejects and alerts whichever way they come in —
 * - `socstream parse` and `socstream detect` (child processes, as a user runs them),
 * - `socstream run` on the memory bus (file sources → ingest → process → lake, DLQ, alerts),
 * - the demo's engine (buildEngine of the demo config).
 * Files (copied, names kept for their log-type hints): sshd, Zeek TSV, Suricata EVE and nginx
 * from ../shared/data (see its SOURCES.md), and a mixed file of lines of all four.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { demoConfig } from '../../src/cli/demo.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { Config } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger, type Logger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { loadRules } from '../../src/detect/sigma/load.ts';
import { LakeQuery } from '../../src/lake/query.ts';
import { buildEngine } from '../../src/pipeline/build.ts';
import { readFileWhole } from '../../src/pipeline/read-input.ts';
import { startRuntime } from '../../src/pipeline/runtime.ts';
import { lakeIds, storedAlerts, waitFor } from '../helpers/reliability.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const RULES = new URL('../../rules', import.meta.url).pathname;
const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'socstream-front-half-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOURCES: Record<string, string> = {
  'auth.log': 'auth/crowdsec-hub/ssh-bf__ssh-bf.log',
  'dns.log': 'zeek-tsv/wrccdc2018-zeek6.2/dns.log',
  'eve.json': 'suricata/surevego/eve.json',
  'access.log': 'nginx/elastic-examples/apache_logs_combined_sample.log',
};
/** Threat events that raise single-event alerts (the bundled rules' own positive fixture). */
const THREATS = new URL('../../rules/fixtures/threat_high/positive.json', import.meta.url).pathname;

function files(): string[] {
  const out: string[] = [];
  const mixed: string[] = [];
  for (const [name, source] of Object.entries(SOURCES)) {
    const path = join(dir, name);
    copyFileSync(join(DATA, source), path);
    out.push(path);
    mixed.push(...readFileSync(path, 'utf8').split('\n').slice(0, 30));
  }
  const threats = join(dir, 'threats.json');
  copyFileSync(THREATS, threats);
  out.push(threats);
  const path = join(dir, 'mixed.txt');
  writeFileSync(path, `${mixed.join('\n')}\n`);
  out.push(path);
  return out;
}

/**
 * `socstream run` on the memory bus (ingest, process, correlate, store) over `paths` until `count`
 * events are in the lake, then stopped; the config it ran with.
 */
async function runUntilInLake(
  dataDir: string,
  paths: string[],
  count: number,
  logger: Logger,
): Promise<Config> {
  const config = validateConfig(
    {
      data_dir: dataDir,
      log_level: 'warn',
      sources: [{ type: 'file', name: 'files', paths, start_at: 'beginning' }],
      detect: { rules: [RULES] },
      lake: { dir: join(dataDir, 'lake'), flush_interval_seconds: 1 },
      alert_store: { type: 'sqlite', sqlite_path: join(dataDir, 'alerts.db') },
      dlq: { type: 'file', path: join(dataDir, 'dlq.ndjson') },
    },
    'front-half.test',
  );
  const runtime = await startRuntime({
    config,
    file: 'front-half.test',
    roles: new Set(['ingest', 'process', 'correlate', 'store']),
    logger,
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  let stopped = false;
  try {
    await waitFor(
      async () => (await lakeIds(config.lake.dir)).ids.size >= count,
      120_000,
      'every event in the lake',
    );
    await runtime.stop();
    stopped = true;
  } finally {
    if (!stopped) await runtime.stop();
  }
  return config;
}

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** An envelope without the fields that depend on when it was read. */
function stable(env: Envelope): Envelope {
  const { ingest_time: _i, ...normalized } = env.normalized;
  return { ...env, normalized };
}

const rejectKey = (r: { reason?: unknown; position?: unknown }) =>
  `${r.reason} ${JSON.stringify(r.position)}`;

/** Final state of each single-event alert (a correlation decides when its window closes). */
function singleEventAlerts(alerts: ReadonlyArray<Record<string, unknown>>, ruleIds: Set<string>) {
  const last = new Map<string, string>();
  for (const a of alerts) {
    if (!ruleIds.has(String(a.rule_id))) continue;
    last.set(String(a.id), `${a.rule_id} ${JSON.stringify(a.group)} count=${a.count}`);
  }
  return new Map([...last].sort());
}

test('parse, detect, run on the memory bus and the demo engine give the same envelopes, rejects and alerts', {
  timeout: 300_000,
}, async () => {
  const paths = files();

  // socstream parse
  const parsed = spawnSync(process.execPath, [MAIN, 'parse', ...paths], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  assert.equal(parsed.status, 0, parsed.stderr.slice(-2000));
  const envelopes = ndjson(parsed.stdout) as unknown as Envelope[];
  const rejects = ndjson(parsed.stderr);
  assert.ok(
    envelopes.length > 2000 && rejects.length > 0,
    `${envelopes.length} envelopes, ${rejects.length} rejects`,
  );
  for (const source of ['sshd', 'zeek', 'suricata', 'nginx'])
    assert.ok(
      envelopes.some((e) => e.source === source),
      `parse read ${source}`,
    );

  // the demo's engine
  const quiet = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });
  const demo = demoConfig({ dataDir: join(dir, 'demo'), rate: 1, seed: 1, port: 0, host: '127.0.0.1' });
  const engine = buildEngine(demo, { logger: quiet }, 'socstream demo');
  const demoEnvelopes: Envelope[] = [];
  const demoRejects: Array<{ reason: string; position: unknown }> = [];
  for (const path of paths) {
    const read = await readFileWhole(path, engine.processor);
    demoEnvelopes.push(...read.envelopes);
    demoRejects.push(...read.rejects);
  }
  assert.deepEqual(
    demoEnvelopes.map(stable),
    envelopes.map(stable),
    'demo engine envelopes = parse envelopes',
  );
  assert.deepEqual(demoRejects.map(rejectKey), rejects.map(rejectKey), 'demo engine rejects = parse rejects');

  // socstream detect
  const detected = spawnSync(process.execPath, [MAIN, 'detect', '--rules', RULES, ...paths], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  assert.equal(detected.status, 0, detected.stderr.slice(-2000));
  assert.match(detected.stderr, new RegExp(`${envelopes.length} events, ${rejects.length} rejected`));
  const ruleIds = new Set(loadRules([RULES]).rules.map((r) => r.id));
  const detectAlerts = singleEventAlerts(ndjson(detected.stdout), ruleIds);
  assert.ok(detectAlerts.size > 0, 'the files raise single-event alerts (threat events)');

  // socstream run, memory bus
  const config = await runUntilInLake(join(dir, 'run'), paths, envelopes.length, quiet);
  const lake = await lakeIds(config.lake.dir);
  assert.deepEqual([...lake.ids].sort(), envelopes.map((e) => e.id).sort(), 'run lake ids = parse ids');
  const dlq = ndjson(readFileSync(config.dlq.path, 'utf8'));
  assert.deepEqual(
    dlq.map(rejectKey).sort(),
    rejects.map(rejectKey).sort(),
    'run dead letters = parse rejects',
  );
  const runAlerts = singleEventAlerts(
    (await storedAlerts(config.alert_store.sqlite_path, dir)) as unknown as Array<Record<string, unknown>>,
    ruleIds,
  );
  assert.deepEqual(runAlerts, detectAlerts, 'run single-event alerts = detect single-event alerts');
});

test('a stream whose first lines are no known format still parses once a line is recognised', () => {
  const path = join(dir, 'late.log');
  const eve = readFileSync(join(DATA, 'suricata/surevego/eve.json'), 'utf8').split('\n').slice(0, 5);
  writeFileSync(path, `garbage one\ngarbage two\n${eve.join('\n')}\n`);
  const r = spawnSync(process.execPath, [MAIN, 'parse', path], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(ndjson(r.stdout).length, 5);
  assert.deepEqual(
    ndjson(r.stderr).map((x) => x.reason),
    ['unknown_format', 'unknown_format'],
  );
});

test('a stream that mixes formats (generate --scenario mixed | socstream detect) is read line by line: every line typed, none rejected', () => {
  const gen = spawnSync(
    process.execPath,
    [MAIN, 'generate', '--scenario', 'mixed', '--count', '3000', '--seed', '7'],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  assert.equal(gen.status, 0, gen.stderr);
  const read = (args: string[]) =>
    spawnSync(process.execPath, [MAIN, ...args], {
      input: gen.stdout,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
  const parsed = read(['parse', '-']);
  assert.equal(parsed.status, 0);
  const envelopes = ndjson(parsed.stdout) as unknown as Envelope[];
  // --stats prints the counts alone, on stdout.
  const counted = read(['parse', '--stats', '-']);
  const stats = ndjson(counted.stdout).find((l) => 'stats' in l)?.stats as {
    rejected: number;
    lines: number;
  };
  assert.equal(stats.rejected, 0, 'no line of a known format is rejected');
  assert.equal(envelopes.length, stats.lines);
  assert.deepEqual(
    envelopes.filter((e) => e.log_type === 'unknown').map((e) => e.raw),
    [],
    'every line typed by its own format',
  );
  assert.ok(new Set(envelopes.map((e) => e.source)).size >= 5, 'several families in one stream');
  const detected = read(['detect', '--rules', RULES]);
  assert.equal(detected.status, 0, detected.stderr);
  // The summary names every format it read, and nothing was rejected.
  const formats = /\[([^\]]*)\]/.exec(detected.stderr)?.[1].split(', ') ?? [];
  assert.ok(formats.length >= 5, `formats in the summary: ${formats.join(', ')}`);
  assert.match(detected.stderr, / 0 rejected;/);
});

/**
 * Real lines of three formats in one file named like a Zeek log: Zeek JSON as Zeek writes files (no
 * `_path`; WRCCDC dns.json with `_path` taken out), Suricata EVE (surevego) and sshd (crowdsec-hub
 * ssh-slow-bf), interleaved. The name is a hint only Zeek JSON lines take; what each line should be.
 */
function namedMixedFile(
  name: string,
  firstFormat: 'zeek' | 'eve' | 'sshd',
): {
  path: string;
  expected: string[];
} {
  const zeek = readFileSync(join(DATA, 'zeek-json/wrccdc2018-zeek6.2/dns.json'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 12)
    .map((line) => {
      const { _path, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return { text: JSON.stringify(rest), kind: `zeek ${_path}` };
    });
  const eve = readFileSync(join(DATA, 'suricata/surevego/eve.json'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .filter((_, i) => i % 20 === 0)
    .slice(0, 12)
    .map((text) => ({ text, kind: `suricata ${(JSON.parse(text) as { event_type: string }).event_type}` }));
  const sshd = readFileSync(join(DATA, 'auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 12)
    .map((text) => ({ text, kind: 'sshd auth' }));
  const order = { zeek: [zeek, eve, sshd], eve: [eve, sshd, zeek], sshd: [sshd, zeek, eve] }[firstFormat];
  const lines: Array<{ text: string; kind: string }> = [];
  for (let i = 0; i < 12; i++) for (const family of order) lines.push(family[i]);
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((l) => l.text).join('\n')}\n`);
  return { path, expected: lines.map((l) => l.kind) };
}

test('a file named like a Zeek log holding Zeek JSON, EVE and sshd lines: each line gets its own format and log type in parse, detect and run', {
  timeout: 300_000,
}, async () => {
  const inputs = [
    namedMixedFile('dns.log', 'zeek'),
    namedMixedFile('dns.16:00:00-17:00:00.log', 'eve'),
    namedMixedFile('all.log', 'sshd'),
  ];
  const paths = inputs.map((i) => i.path);

  const parsed = spawnSync(process.execPath, [MAIN, 'parse', ...paths], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(parsed.status, 0, parsed.stderr.slice(-2000));
  assert.deepEqual(ndjson(parsed.stderr), [], 'no line rejected');
  const envelopes = ndjson(parsed.stdout) as unknown as Envelope[];
  assert.deepEqual(
    envelopes.map((e) => `${e.source} ${e.log_type}`),
    inputs.flatMap((i) => i.expected),
    'every line: its own format and log type (the name only types Zeek lines)',
  );

  const detected = spawnSync(process.execPath, [MAIN, 'detect', '--rules', RULES, ...paths], {
    encoding: 'utf8',
  });
  assert.equal(detected.status, 0, detected.stderr);
  assert.match(detected.stderr, new RegExp(` ${envelopes.length} events, 0 rejected;`));
  const formats = /\[([^\]]*)\]/.exec(detected.stderr)?.[1].split(', ').sort();
  assert.deepEqual(formats, ['sshd', 'suricata-eve', 'zeek-json']);

  const quiet = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }), level: 'silent' });
  const config = await runUntilInLake(join(dir, 'named'), paths, envelopes.length, quiet);
  const lake = await LakeQuery.open({ lakeDir: config.lake.dir });
  try {
    const rows = await lake.query('select id, source, log_type, src_ip, "user", raw from events', {
      maxRows: 10_000,
    });
    const row = (r: readonly unknown[]) =>
      JSON.stringify([r[0], r[1], r[2], r[3] ?? null, r[4] ?? null, JSON.parse(String(r[5]))]);
    const env = (e: Envelope) =>
      JSON.stringify([
        e.id,
        e.source,
        e.log_type,
        e.normalized.src_ip ?? null,
        e.normalized.user ?? null,
        e.raw,
      ]);
    assert.deepEqual(
      rows.rows.map(row).sort(),
      envelopes.map(env).sort(),
      'run: the same ids, families, log types, sources, users and raw records as parse',
    );
  } finally {
    lake.close();
  }
});
