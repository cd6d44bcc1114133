/**
 * Real auth corpora nobody here wrote, through the real path (parser → normalizer → rule pack →
 * correlations), against a ground truth counted by hand with grep/awk from the raw files:
 *
 * - loghub OpenSSH_2k (test/fixtures/parsers/sshd/loghub, see SOURCES.md): 2,000 lines of one
 *   host's sshd with PAM. Per connection (sshd pid) the attempts are the `Failed password` lines
 *   (+N for `message repeated N times`), or the PAM failures (`PAM N more` = N+1) or `Invalid user`
 *   lines when more: 532 attempts. Sources with >= 10 attempts inside 5 minutes: six. Counting
 *   lines instead (Invalid user + pam_unix + Failed password per guess) made 3 failures of each
 *   guess by an unknown user and two false "Brute force from one source" (123.235.32.19 and
 *   60.2.12.12: four guesses each, twelve lines), which the exact comparison below rules out.
 * - loghub Linux_2k: a 2005 /var/log/messages whose sshd failures exist only as old-style
 *   `sshd(pam_unix)[pid]: authentication failure; … rhost=…` lines: 489 attempts; 27 sources
 *   (by address or, where PAM wrote one, host name) with >= 10 inside 5 minutes.
 * - the auth/ corpora of ../shared/data (crowdsec-hub, elastic-beats).
 * The truth lists below are those hand counts; the test asserts the alerts equal them exactly.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { detectSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { detectorFor, loadRuleSet } from '../../src/pipeline/build.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';

const LOGHUB = new URL('../fixtures/parsers/sshd/loghub/', import.meta.url).pathname;
const SHAPES = new URL('../fixtures/parsers/sshd/fail2ban-shapes.log', import.meta.url).pathname;
const DATA = new URL('../../../shared/data/auth/', import.meta.url).pathname;
const RULES = new URL('../../rules/', import.meta.url).pathname;
// loghub's lines carry no year; fixed so year inference is reproducible.
const RECEIVED_AT = Date.UTC(2026, 10, 23);

function envelopes(path: string): Envelope[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  return createEnvelopeReader({
    name: path,
    format: 'sshd',
    normalizer: createNormalizer(),
    receivedAt: RECEIVED_AT,
  }).read(lines);
}

function alerts(envs: Envelope[]): Alert[] {
  const detect = detectSchema.parse({});
  const detector = detectorFor(loadRuleSet([RULES], detect), detect);
  const out = [...detector.process(envs), ...detector.advance()];
  return out;
}

function groupsOf(all: Alert[], title: string, field: string): string[] {
  return [...new Set(all.filter((a) => a.rule_title === title).map((a) => a.group[field]))].sort();
}

const BF_SOURCE = 'Brute force from one source';
const BF_HOST = 'Brute force from one source host name';

const OPENSSH_TRUTH = [
  '103.99.0.122',
  '112.95.230.3',
  '183.62.140.253',
  '185.190.58.151',
  '187.141.143.180',
  '5.188.10.180',
];
const LINUX_TRUTH = [
  '061092085098.ctinets.com',
  '150.183.249.110',
  '195.129.24.210',
  '202.181.236.180',
  '207.243.167.114',
  '209.152.168.249',
  '211-76-104-65.ebix.net.tw',
  '211.137.205.253',
  '211.214.161.141',
  '211.9.58.217',
  '218.188.2.4',
  '220-135-151-1.hinet-ip.hinet.net',
  '220.117.241.87',
  '60.30.224.116',
  '62-192-102-94.dsl.easynet.nl',
  '65.166.159.14',
  '68.143.156.89.nw.nuvox.net',
  '82.77.200.128',
  'adsl-70-242-75-179.dsl.ksc2mo.swbell.net',
  'c51471f2c.cable.wanadoo.nl',
  'csnsu.nsuok.edu',
  'h64-187-1-131.gtconnect.net',
  'ip-216-69-169-168.ip.secureserver.net',
  'massive.merukuru.org',
  'n219076184117.netvigator.com',
  'p15105218.pureserver.info',
  'zummit.com',
];

/** Every auth event with the fields its line carries: type, outcome, and a source when it has one. */
function auditFields(envs: Envelope[]): { unknownType: string[]; missingSource: string[] } {
  const unknownType: string[] = [];
  const missingSource: string[] = [];
  for (const e of envs) {
    if (e.log_type !== 'auth') continue;
    const msg = String(e.raw.message);
    const n = e.normalized;
    // A line of the families docs/parsers.md lists must have its event type and outcome.
    if (
      /authentication failure|Failed |Accepted |Invalid user|Connection closed|Received disconnect|Did not receive/.test(
        msg,
      )
    ) {
      if (n.event_type === 'auth' || n.outcome === undefined) unknownType.push(msg);
    }
    // A line that names an address or a host must give it.
    if (
      / from \d|rhost=\S|\d+\.\d+\.\d+\.\d+ port \d/.test(msg) &&
      n.src_ip === undefined &&
      n.src_host === undefined
    )
      missingSource.push(msg);
  }
  return { unknownType, missingSource };
}

describe('loghub OpenSSH_2k', () => {
  const envs = envelopes(`${LOGHUB}OpenSSH_2k.log`);
  test('2,000 lines: 2,008 events (two `message repeated 5 times` are 5 each), no reject', () => {
    assert.equal(envs.length, 2008);
  });
  test('every line that carries a type, outcome or source gets it', () => {
    const { unknownType, missingSource } = auditFields(envs);
    assert.deepEqual(unknownType, []);
    assert.deepEqual(missingSource, []);
  });
  test('532 attempts counted once each, whatever lines recorded them', () => {
    const total = envs.reduce(
      (s, e) => s + (typeof e.normalized.auth_attempts === 'number' ? e.normalized.auth_attempts : 0),
      0,
    );
    assert.equal(total, 532);
  });
  test('brute force alerts equal the hand count: six sources, no false one', () => {
    const all = alerts(envs);
    assert.deepEqual(groupsOf(all, BF_SOURCE, 'src_ip'), OPENSSH_TRUTH);
  });
});

describe('loghub Linux_2k (pre-2006 PAM lines)', () => {
  const envs = envelopes(`${LOGHUB}Linux_2k.log`);
  test('every old-style sshd(pam_unix) failure is an auth failure with a source (489)', () => {
    const failures = envs.filter(
      (e) => e.normalized.event_type === 'auth_failure' && e.normalized.service === 'sshd',
    );
    assert.equal(failures.length, 489);
    for (const f of failures)
      assert.ok(f.normalized.src_ip !== undefined || f.normalized.src_host !== undefined);
    // rhost names stay out of src_ip.
    for (const f of failures)
      if (f.normalized.src_ip !== undefined) assert.match(String(f.normalized.src_ip), /^[\d.]+$/);
    const { unknownType, missingSource } = auditFields(envs);
    assert.deepEqual(unknownType, []);
    assert.deepEqual(missingSource, []);
  });
  test('brute force alerts equal the hand count: 27 sources by address or host name', () => {
    const all = alerts(envs);
    const found = [...groupsOf(all, BF_SOURCE, 'src_ip'), ...groupsOf(all, BF_HOST, 'src_host')].sort();
    assert.deepEqual(found, [...LINUX_TRUTH].sort());
  });
});

describe('../shared/data/auth corpora', () => {
  const files = readdirSync(DATA, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.log'))
    .map((d) => `${d.parentPath}/${d.name}`);
  test('every line that carries a type, outcome or source gets it', () => {
    assert.ok(files.length >= 19, String(files.length));
    for (const f of files) {
      const { unknownType, missingSource } = auditFields(envelopes(f));
      assert.deepEqual(unknownType, [], f);
      assert.deepEqual(missingSource, [], f);
    }
  });
});

describe("lines in the shapes of fail2ban's sshd, sshd-journal and pam-generic tests", () => {
  const envs = envelopes(SHAPES);
  test('each line: event, outcome, user and source as the comment above it says', () => {
    const lines = readFileSync(SHAPES, 'utf8').split('\n');
    const expected: Array<Record<string, unknown>> = [];
    for (const l of lines) if (l.startsWith('# expect ')) expected.push(JSON.parse(l.slice(9)));
    assert.equal(envs.length, expected.length);
    envs.forEach((e, i) => {
      const want = expected[i];
      const got: Record<string, unknown> = {};
      for (const k of Object.keys(want)) got[k] = e.normalized[k] ?? null;
      assert.deepEqual(got, want, String(e.raw.message));
    });
  });
});
