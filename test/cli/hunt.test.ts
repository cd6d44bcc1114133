/**
 * `socstream hunt`: the alerts a hunt raises over a lake equal the alerts the stream raised while
 * the same events were written to it. Real logs (every crowdsec-hub sshd file, the WRCCDC 2018 Zeek
 * DNS log) go through the real parsers and normalizer, the bundled rule pack detects on them as a
 * stream, the real LakeWriter writes them to Parquet, and the hunt reads them back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { huntRange, parseDuration, runHunt } from '../../src/cli/hunt.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { UsageError } from '../../src/core/errors.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { detectorFor, loadRuleSet } from '../../src/pipeline/build.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';
import { writeLake } from '../lake/helpers.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;

function envelopes(): Envelope[] {
  const normalizer = createNormalizer();
  const inputs: Array<[string, string]> = [
    ...readdirSync(`${SHARED_DATA}/auth/crowdsec-hub`)
      .sort()
      .map((f): [string, string] => ['sshd', `${SHARED_DATA}/auth/crowdsec-hub/${f}`]),
    ['zeek-json', `${SHARED_DATA}/zeek-json/wrccdc2018-zeek6.2/dns.json`],
  ];
  const out: Envelope[] = [];
  for (const [format, file] of inputs) {
    const reader = createEnvelopeReader({ name: file, format, normalizer, receivedAt: Date.UTC(2026, 0, 1) });
    out.push(
      ...reader.read(
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      ),
    );
  }
  // As concurrent sources arrive at a live pipeline: by event time.
  return out.sort((a, b) => Number(a.normalized.event_time) - Number(b.normalized.event_time));
}

/**
 * Latest state per alert id, as an alert store would hold it. The event ids as a set: events with
 * the same event time reach the stream in arrival order and the hunt in id order.
 */
function finalStates(alerts: readonly Alert[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of alerts)
    m.set(
      a.id,
      JSON.stringify([
        a.rule_id,
        a.group,
        a.count,
        a.first_seen,
        a.last_seen,
        [...a.event_ids].sort(),
        a.level,
      ]),
    );
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'socstream-hunt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a hunt over the lake raises the alerts the stream raised while writing it', async () => {
  const events = envelopes();
  const detect = configSchema.parse({}).detect;
  const detector = detectorFor(loadRuleSet([RULES], detect), detect);
  const streamed: Alert[] = [];
  const batches: Envelope[][] = [];
  for (let i = 0; i < events.length; i += 500) batches.push(events.slice(i, i + 500));
  for (const b of batches) streamed.push(...detector.process(b));
  streamed.push(...detector.advance());
  const lake = join(dir, 'lake');
  await writeLake(lake, batches);

  const hunted: Alert[] = [];
  const progress: string[] = [];
  const report = await runHunt(
    { rules: [RULES], lake },
    (a) => hunted.push(a),
    (l) => progress.push(l),
  );
  assert.equal(report.events, events.length);
  const want = finalStates(streamed);
  assert.ok(want.size >= 3, `${want.size} alerts streamed`);
  assert.deepEqual(finalStates(hunted), want);
  assert.match(report.summary, new RegExp(`hunt: ${events.length} events from `));

  // A time range: only the alerts whose events lie in it.
  const times = events.map((e) => Number(e.normalized.event_time));
  const mid = times[Math.floor(times.length / 2)];
  const early: Alert[] = [];
  const partial = await runHunt({ rules: [RULES], lake, to: String(mid) }, (a) => early.push(a));
  assert.equal(partial.events, times.filter((t) => t < mid).length);
  for (const a of early) assert.ok(a.last_seen < mid);
});

test('time ranges: --since is relative to now, --from/--to absolute; bad values are usage errors', () => {
  const now = Date.UTC(2026, 11, 7);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('7 days'), undefined);
  assert.deepEqual(huntRange({ since: '12h' }, now), [now - 12 * 3_600_000, now + 1]);
  assert.deepEqual(huntRange({ from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }, now), [
    Date.UTC(2026, 11, 1),
    Date.UTC(2026, 11, 2),
  ]);
  assert.throws(() => huntRange({ since: 'last week' }, now), UsageError);
  assert.throws(() => huntRange({ since: '1d', from: '2026-01-01' }, now), UsageError);
  assert.throws(() => huntRange({ from: '2026-12-02', to: '2026-12-01' }, now), UsageError);
});

test('socstream hunt --store: NDJSON on stdout, the alerts upserted into the alert store, progress on stderr', async () => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { createAlertStore } = await import('../../src/pipeline/alerts.ts');
  const lake = join(dir, 'lake');
  const data = join(dir, 'data');
  const config = join(dir, 'hunt.yaml');
  writeFileSync(config, `data_dir: ${data}\nlake: { dir: ${lake} }\n`);
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [main, 'hunt', '--rules', RULES, '--config', config, '--store'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const printed = finalStates(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert),
  );
  assert.match(r.stderr, /hunt: \d+ events from /);
  const parsed = configSchema.parse({ data_dir: data });
  const store = createAlertStore(parsed.alert_store, data);
  await store.start();
  try {
    const page = await store.list({ limit: 100 });
    assert.deepEqual(finalStates(page.alerts), printed);
  } finally {
    await store.close();
  }
});
