/**
 * `socstream parse` as a user runs it: a child process (process.execPath src/cli/main.ts parse ...).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Envelope } from '../../src/core/envelope.ts';
import { eventId } from '../../src/core/ids.ts';
import { fileIdFor } from '../../src/sources/file.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/parsers/', import.meta.url).pathname;
const DATA_NGINX = new URL(
  '../../../shared/data/nginx/elastic-examples/apache_logs_combined_sample.log',
  import.meta.url,
).pathname;
const dir = mkdtempSync(join(tmpdir(), 'socstream-parse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function parse(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [MAIN, 'parse', ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const lines = (s: string) =>
    s
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stdout: lines(r.stdout), stderr: lines(r.stderr), stderrText: r.stderr };
}

test('a file: format detected, envelopes on stdout with file-position ids, rejects on stderr, exit 0', () => {
  const file = `${FIXTURES}suricata-eve/eve.in.log`;
  const r = parse([file]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.length, 7);
  const st = statSync(file);
  const first = r.stdout[0];
  assert.equal(first.source, 'suricata');
  assert.equal(first.log_type, 'alert');
  // The id the file source gives the same line (file identity + byte offset): parse and run agree.
  assert.equal(first.id, eventId({ kind: 'file', path: file, fileId: fileIdFor(st), offset: 0 }));
  // Three layers: the normalizer and enricher are plugged in (src/normalize, src/enrich).
  const normalized = first.normalized as Record<string, unknown>;
  assert.equal(normalized.event_class, 'alert');
  assert.equal(typeof normalized.event_time, 'number');
  assert.equal(typeof (first.enriched as Record<string, unknown>).event_year, 'number');
  const rejects = r.stderr.filter((l) => 'reason' in l);
  assert.deepEqual(
    rejects.map((x) => x.reason),
    ['invalid_json', 'invalid_json'],
  );
  assert.equal((rejects[0].position as { kind: string }).kind, 'file');
  // --stats answers with the counts alone: one line on stdout, no events.
  const counted = parse(['--stats', file]);
  assert.equal(counted.status, 0);
  assert.equal(counted.stdout.length, 1);
  const stats = counted.stdout[0].stats as Record<string, unknown>;
  assert.deepEqual(stats.by_reason, { invalid_json: 2 });
  assert.equal(stats.accepted, 7);
});

test('stdin with - : stream positions are byte offsets as the stdin source gives, --format forces the parser', () => {
  const line = '{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}';
  const r = parse(['--format', 'threat-json', '-'], `${line}\nnot json\n`);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.length, 1);
  assert.equal(r.stdout[0].id, eventId({ kind: 'stream', name: 'stdin', sequence: 0 }));
  assert.equal(r.stderr[0].reason, 'invalid_json');
  assert.deepEqual(r.stderr[0].position, { kind: 'stream', name: 'stdin', sequence: line.length + 1 });
});

test('a line longer than parsers.max_line_bytes is rejected as line_too_long, the next line still parses', () => {
  const file = join(dir, 'long.log');
  const ok = '{"host": "h", "threat": "t", "severity": "low"}';
  writeFileSync(file, `${ok}\n{"host": "${'x'.repeat(200_000)}"}\n${ok}\n`);
  const config = join(dir, 'socstream.yaml');
  writeFileSync(config, 'parsers:\n  max_line_bytes: 1000\n');
  const r = parse(['--config', config, '--format', 'threat-json', file]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.length, 2);
  const rej = r.stderr.find((l) => l.reason === 'line_too_long');
  assert.ok(rej);
  assert.equal(rej.original_length, 200_012);
  assert.equal(rej.truncated, true);
  assert.ok((rej.text as string).length <= 512);
  assert.equal((rej.position as { offset: number }).offset, ok.length + 1);
});

test('binary input is rejected line by line, never a crash', () => {
  const file = join(dir, 'binary.log');
  writeFileSync(file, Buffer.from([0, 1, 2, 255, 254, 10, 0, 0, 0, 10, 0xc3, 0x28, 10]));
  const r = parse(['--format', 'sshd', file]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.length, 0);
  assert.deepEqual(
    r.stderr.map((x) => x.reason),
    ['binary_data', 'binary_data', 'unrecognized_line'],
  );
});

test('nginx log_format from --config is used', () => {
  const config = join(dir, 'nginx.yaml');
  writeFileSync(
    config,
    `parsers:\n  settings:\n    nginx:\n      log_format: '[$time_local] $host $remote_addr $request_time "$request" $status $body_bytes_sent $request_length $http_referer $http_user_agent'\n`,
  );
  const r = parse(['--config', config, '--format', 'nginx', `${FIXTURES}nginx/log-format.in.log`]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.length, 6, "the custom layout's 4 lines and the 2 Nginx Proxy Manager lines");
  assert.equal((r.stdout[0].raw as Record<string, unknown>).host, 'mx.example.org');
  // Without --format: detection knows the configured layout too.
  const detected = parse(['--config', config, `${FIXTURES}nginx/log-format.in.log`]);
  assert.equal(detected.status, 0);
  assert.deepEqual(
    detected.stdout.map((e) => e.raw),
    r.stdout.map((e) => e.raw),
  );
});

test('bad usage exits 2: unknown format, missing file, a directory, a misspelt parser setting', () => {
  const unknown = parse(['--format', 'nope', '-'], '');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderrText, /unknown format "nope"/);
  const missing = parse([join(dir, 'does-not-exist.log')]);
  assert.equal(missing.status, 2);
  const directory = parse([dir]);
  assert.equal(directory.status, 2);
  assert.match(directory.stderrText, /a directory/);
  const config = join(dir, 'typo.yaml');
  writeFileSync(config, 'parsers:\n  settings:\n    nginx:\n      log_fromat: x\n');
  const typo = parse(['--config', config, '-'], '');
  assert.equal(typo.status, 2);
  assert.match(typo.stderrText, /parsers\.settings\.nginx/);
});

test('a reader that goes away (parse big.log | head) ends the run quietly with exit 0', async () => {
  const child = spawn(process.execPath, [MAIN, 'parse', `${DATA_NGINX}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.doesNotMatch(stderr, /Unhandled|EPIPE|at /);
});

test('parse delivers what a parser holds at the end: a Kafka ERROR whose stack trace ends the file', async () => {
  const d = mkdtempSync(join(tmpdir(), 'socstream-kafka-'));
  try {
    const file = join(d, 'server.log');
    writeFileSync(
      file,
      [
        '[2023-11-16 19:29:54,929] INFO [KafkaServer id=1001] started (kafka.server.KafkaServer)',
        '[2026-03-14 08:00:05,001] ERROR Error while writing to checkpoint file /var/lib/kafka/data/x (kafka.server.LogDirFailureChannel)',
        'java.io.IOException: No space left on device',
        '\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)',
        '',
      ].join('\n'),
    );
    const r = parse(['--format', 'kafka-log', file]);
    assert.equal(r.status, 0);
    const envs = r.stdout as unknown as Envelope[];
    assert.equal(envs.length, 2);
    assert.equal(envs[1].raw.level, 'ERROR');
    assert.equal(
      envs[1].raw.stack_trace,
      'java.io.IOException: No space left on device\n\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)',
    );
    assert.notEqual(envs[0].id, envs[1].id);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
