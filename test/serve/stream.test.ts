import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createBus } from '../../src/bus/create.ts';
import { validateConfig } from '../../src/config/loader.ts';
import type { Bus } from '../../src/core/bus.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { alertRecord, envelopeRecord } from '../../src/roles/codec.ts';
import { createServeRole, type ServeRole } from '../../src/roles/serve.ts';
import { manyEnvelopes } from '../lake/envelopes.ts';
import { writeLake } from '../lake/helpers.ts';
import { alertFor, bearer, startFixture } from './helpers.ts';

/**
 * GET /api/stream end to end through the serve role: alerts and events published on the bus
 * topics reach an SSE client; a client reconnecting with Last-Event-ID gets what it missed.
 */
const TOKEN = 'stream-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'socstream-stream-'));
const config = validateConfig(
  {
    data_dir: dir,
    lake: { dir: join(dir, 'lake') },
    alert_store: { type: 'sqlite', sqlite_path: join(dir, 'alerts.db') },
    serve: { port: 0 },
  },
  'stream test',
);
const ssh = manyEnvelopes('ssh', 10, Date.now() - 60_000, 1000, 'stream');
let bus: Bus;
let role: ServeRole;
let base = '';

before(async () => {
  await writeLake(config.lake.dir, [ssh]);
  bus = createBus(config.bus);
  await bus.createTopics(
    [
      config.topics.alerts,
      config.topics.network,
      config.topics.auth,
      config.topics.web,
      config.topics.other,
    ].map((name) => ({ name, partitions: 1 })),
  );
  role = createServeRole({
    config,
    bus,
    ctx: { logger: createLogger({ level: 'silent' }), telemetry: createTelemetry({ defaultMetrics: false }) },
    extraTokens: [{ name: 'tester', role: 'viewer', token: TOKEN }],
    // A process role elsewhere publishing class topics: the live tail follows them.
    eventTopics: [config.topics.network, config.topics.auth, config.topics.web, config.topics.other],
  });
  base = (await role.start()).url;
});

after(async () => {
  await role.stop();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Frame {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads SSE frames from /api/stream until `until` says stop (or 10 s pass). */
async function readFrames(
  headers: Record<string, string>,
  until: (frames: Frame[]) => boolean,
  onOpen?: () => Promise<void>,
): Promise<Frame[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  const res = await fetch(`${base}/api/stream?token=${TOKEN}`, { headers, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body?.getReader();
  assert.ok(reader);
  await onOpen?.();
  try {
    while (!until(frames)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame: Frame = {};
        for (const line of buffer.slice(0, end).split('\n')) {
          const i = line.indexOf(': ');
          if (i > 0) frame[line.slice(0, i) as keyof Frame] = line.slice(i + 2);
        }
        if (frame.event) frames.push(frame);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return frames;
}

/** The bus consumer of the serve role starts at the end: wait until it is subscribed. */
async function publishUntilSeen(publish: () => Promise<void>, seen: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !seen(); i++) {
    await publish();
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an alert published on the alerts topic arrives on the stream', async () => {
  const alert = alertFor(ssh.slice(0, 3), { id: 'stream-alert-1' });
  const frames = await readFrames(
    {},
    (fs) => fs.some((x) => x.event === 'alert'),
    async () => {
      void publishUntilSeen(
        () => bus.publish(config.topics.alerts, [alertRecord(alert)]),
        () => role.live.since(0).some((i) => i.kind === 'alert'),
      );
    },
  );
  const got = frames.find((x) => x.event === 'alert');
  assert.ok(got?.id && Number(got.id) > 0);
  const data = JSON.parse(got.data ?? '{}') as { id: string; rule_title: string };
  assert.equal(data.id, 'stream-alert-1');
  assert.equal(data.rule_title, 'SSH brute force');
});

test('events published on an events topic arrive as a sampled tail with their summary fields', async () => {
  await publishUntilSeen(
    () =>
      bus.publish(
        config.topics.network,
        ssh.slice(0, 3).map((e) => envelopeRecord(e, null)),
      ),
    () => role.live.since(0).some((i) => i.kind === 'event'),
  );
  const frames = await readFrames({ 'last-event-id': '0' }, (fs) => fs.some((x) => x.event === 'event'));
  const event = JSON.parse(frames.find((x) => x.event === 'event')?.data ?? '{}') as Record<string, unknown>;
  assert.equal(event.log_type, 'ssh');
  assert.equal(event.src_ip, ssh[0].normalized.src_ip);
  assert.equal('raw' in event, false, 'the tail carries no raw record');
});

test('reconnecting with Last-Event-ID replays exactly what came after it', async () => {
  const mark = role.live.lastSeq();
  for (let i = 2; i <= 4; i++) role.live.publishAlert(alertFor(ssh.slice(0, i), { id: `missed-${i}` }));
  const frames = await readFrames({ 'last-event-id': String(mark) }, (fs) => fs.length >= 3);
  assert.deepEqual(
    frames.map((x) => Number(x.id)),
    [mark + 1, mark + 2, mark + 3],
  );
  assert.deepEqual(
    frames.map((x) => (JSON.parse(x.data ?? '{}') as { id: string }).id),
    ['missed-2', 'missed-3', 'missed-4'],
  );
  // Without Last-Event-ID a client starts from now: nothing old is replayed.
  const fresh = await readFrames(
    {},
    (fs) => fs.length >= 1,
    async () => {
      setTimeout(() => role.live.publishAlert(alertFor(ssh.slice(0, 5), { id: 'after-connect' })), 200);
    },
  );
  assert.equal((JSON.parse(fresh[0].data ?? '{}') as { id: string }).id, 'after-connect');
});

test('the stream refuses a missing or wrong token', async () => {
  assert.equal((await fetch(`${base}/api/stream`)).status, 401);
  assert.equal((await fetch(`${base}/api/stream?token=wrong-wrong-wrong-wrong`)).status, 401);
});

test('closing the server ends open streams instead of waiting for the clients', async () => {
  const f = await startFixture();
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const address = f.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const res = await fetch(`http://127.0.0.1:${port}/api/stream`, { headers: bearer('viewer') });
  assert.equal(res.status, 200);
  const closed = await Promise.race([
    f.close().then(() => 'closed'),
    new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
  ]);
  assert.equal(closed, 'closed');
  await res.body?.cancel();
});
