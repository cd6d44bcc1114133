import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { coalescingOutput, createAlertCoalescer, isUpdate } from '../../src/detect/coalesce.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { detectorFor, loadRuleSet } from '../../src/pipeline/build.ts';
import { createEnvelopeReader } from '../../src/pipeline/read-input.ts';
import { createConsoleAlertOutput } from '../../src/sinks/alert-console.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const RULES = new URL('../../rules/', import.meta.url).pathname;
const SLOW_BF = `${SHARED_DATA}/auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log`;

/** The bundled pack over a real brute force, one line per batch as a live stream delivers it. */
function liveAlerts(): Alert[][] {
  const detect = configSchema.parse({}).detect;
  const detector = detectorFor(loadRuleSet([RULES], detect), detect);
  const reader = createEnvelopeReader({ name: SLOW_BF, format: 'sshd', normalizer: createNormalizer() });
  const lines = readFileSync(SLOW_BF, 'utf8').trim().split('\n');
  return [...lines.map((l) => detector.process(reader.read([l]))), detector.advance()];
}

test('a real brute force: every attempt updates the alerts; coalesced, each alert goes out once new and once final', () => {
  const batches = liveAlerts();
  const uncoalesced = batches.flat();
  const ids = new Set(uncoalesced.map((a) => a.id));
  assert.ok(uncoalesced.length > 2 * ids.size, `${uncoalesced.length} records for ${ids.size} alerts`);

  let clock = 0;
  const c = createAlertCoalescer({ intervalMs: 30_000, now: () => clock });
  const out: Alert[] = [];
  for (const batch of batches) {
    out.push(...c.offer(batch));
    clock += 1000; // one line a second: the whole attack fits in one interval
  }
  out.push(...c.flush());
  const news = out.filter((a) => !isUpdate(a));
  assert.deepEqual(new Set(news.map((a) => a.id)), ids);
  assert.equal(news.length, ids.size, 'each alert is raised once');
  // The last record of each alert is its final state, as the uncoalesced stream ends.
  const lastOf = (xs: Alert[]) => new Map(xs.map((a) => [a.id, a.count]));
  assert.deepEqual(lastOf(out), lastOf(uncoalesced));
  assert.ok(out.length <= 2 * ids.size, `${out.length} records`);
});

test('updates go out at most once per interval per alert, the latest state, and when due without new input', () => {
  let clock = 0;
  const c = createAlertCoalescer({ intervalMs: 10_000, now: () => clock });
  const alert = (count: number) => ({ id: 'a1', count }) as Alert;
  assert.deepEqual(
    c.offer([alert(1)]).map((a) => [a.count, isUpdate(a)]),
    [[1, false]],
  );
  clock = 2000;
  assert.deepEqual(c.offer([alert(2)]), []);
  clock = 4000;
  assert.deepEqual(c.offer([alert(3)]), []);
  assert.equal(c.held(), 1);
  clock = 9999;
  assert.deepEqual(c.due(), []);
  clock = 10_000;
  assert.deepEqual(
    c.due().map((a) => [a.count, isUpdate(a)]),
    [[3, true]],
  );
  clock = 12_000;
  assert.deepEqual(c.offer([alert(4)]), []);
  clock = 20_000;
  // Released with the next batch once due, before that batch's own alerts.
  assert.deepEqual(
    c.offer([{ id: 'b1', count: 1 } as Alert]).map((a) => [a.id, a.count, isUpdate(a)]),
    [
      ['a1', 4, true],
      ['b1', 1, false],
    ],
  );
  assert.deepEqual(c.flush(), []);
});

test('the console prints new alerts only, updates when asked; stop writes the held updates', async () => {
  const printed = (updates: boolean) => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => {
      text += d;
    });
    return { out: createConsoleAlertOutput({ stream, updates }), text: () => text };
  };
  const batches = liveAlerts();
  for (const updates of [false, true]) {
    const p = printed(updates);
    const out = coalescingOutput(p.out, { intervalMs: 60_000 });
    for (const b of batches) await out.write(b);
    await out.stop();
    const lines = p.text().trim().split('\n');
    const alerts = lines.filter((l) => l.startsWith('[ALERT]'));
    const ups = lines.filter((l) => l.startsWith('[UPDATE]'));
    assert.equal(alerts.length, new Set(batches.flat().map((a) => a.id)).size);
    if (updates) assert.ok(ups.length >= 1 && ups.every((l) => /Count: \d+/.test(l)));
    else assert.equal(ups.length, 0);
  }
});
