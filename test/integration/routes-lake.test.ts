/**
 * The example config's routes on the real broker (config/socstream.example.yaml: seed 003's
 * `zeek-normalized` and the `security_alerts` route): real Zeek TSV and Suricata EVE files are
 * tailed, processed in one pass, and then
 * - every event is in the lake (the process role writes it; no route takes an event away from it),
 * - every Zeek event is on `zeek-normalized` and every Suricata alert on `security_alerts`,
 * - stopping drains at once: no group waits on a topic that nobody in socstream reads.
 * Data: ../shared/data/zeek-tsv/wrccdc2018-zeek6.2 and suricata/surevego (see its SOURCES.md).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { loadConfig, validateConfig } from '../../src/config/loader.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { prefixedTopics } from '../../src/config/topics.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createTelemetry } from '../../src/core/telemetry.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { createProcessor } from '../../src/pipeline/processor.ts';
import { readFileWhole } from '../../src/pipeline/read-input.ts';
import { startRuntime } from '../../src/pipeline/runtime.ts';
import { groupsOf } from '../../src/pipeline/topics.ts';
import { lakeIds, topicIds, waitFor } from '../helpers/reliability.ts';

const SKIP = process.env.SOCSTREAM_SKIP_KAFKA === '1' ? 'SOCSTREAM_SKIP_KAFKA=1' : undefined;
const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const EXAMPLE = new URL('../../config/socstream.example.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'socstream-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the example config's routes get their events and every event is in the lake; the drain ends at once", {
  skip: SKIP,
  timeout: 240_000,
}, async () => {
  const example = loadConfig(EXAMPLE);
  const prefix = `routes-${randomBytes(4).toString('hex')}.`;
  // The example's routes, under this test's prefix.
  const routes = example.routes.map((r) => ({ ...r, topic: prefix + r.topic }));
  const files = {
    dns: join(dir, 'dns.log'),
    ssl: join(dir, 'ssl.log'),
    eve: join(dir, 'eve.json'),
  };
  copyFileSync(join(DATA, 'zeek-tsv/wrccdc2018-zeek6.2/dns.log'), files.dns);
  copyFileSync(join(DATA, 'zeek-tsv/wrccdc2018-zeek6.2/ssl.log'), files.ssl);
  copyFileSync(join(DATA, 'suricata/surevego/eve.json'), files.eve);
  const config = validateConfig(
    {
      data_dir: dir,
      log_level: 'warn',
      // Own consumer groups: runs on a shared broker under the default socstream-* groups rebalance
      // each other (one group, different topics) and can stall for minutes.
      bus: { type: 'kafka', group_prefix: prefix.slice(0, -1), kafka: { brokers: ['127.0.0.1:9092'] } },
      topics: prefixedTopics(prefix, 3),
      sources: [
        { type: 'file', name: 'zeek', paths: [files.dns, files.ssl], start_at: 'beginning' },
        { type: 'file', name: 'suricata', paths: [files.eve], format: 'suricata-eve', start_at: 'beginning' },
      ],
      routes,
      detect: { rules: example.detect.rules },
      lake: { dir: join(dir, 'lake'), flush_interval_seconds: 2 },
      alert_store: { sqlite_path: join(dir, 'alerts.db') },
      dlq: { path: join(dir, 'dlq.ndjson') },
    },
    'routes-lake.test',
  );
  // What the front half gives the same files: the ids the pipeline must deliver.
  const processor = createProcessor({ normalizer: createNormalizer() });
  const expected = new Map<string, { source: string; log_type: string; event_class: unknown }>();
  for (const [name, path] of Object.entries(files)) {
    const read = await readFileWhole(path, processor, name === 'eve' ? { format: 'suricata-eve' } : {});
    for (const e of read.envelopes)
      expected.set(e.id, { source: e.source, log_type: e.log_type, event_class: e.normalized.event_class });
  }
  const zeekIds = [...expected].filter(([, e]) => e.source === 'zeek').map(([id]) => id);
  const alertIds = [...expected].filter(([, e]) => e.event_class === 'alert').map(([id]) => id);
  assert.ok(zeekIds.length > 1000 && alertIds.length > 10, 'the files carry Zeek events and IDS alerts');

  const logger = createLogger({
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
    level: 'silent',
  });
  const runtime = await startRuntime({
    config,
    file: 'routes-lake.test',
    roles: new Set(['ingest', 'process', 'correlate', 'store']),
    logger,
    telemetry: createTelemetry({ defaultMetrics: false }),
  });
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: ['127.0.0.1:9092'], client_id: 'routes-test' }));
  let stopped = false;
  try {
    const raw = [`${config.topics.raw_prefix}zeek`, `${config.topics.raw_prefix}suricata`];
    // Every raw record committed by the process role: its events are in renamed lake files.
    await waitFor(
      async () => {
        const ends = await bus.endOffsets(raw);
        const done = await bus.committedOffsets(groupsOf(config).process, raw);
        const total = (o: Array<{ offset: bigint }>) => o.reduce((n, x) => n + x.offset, 0n);
        return total(ends) > 0n && total(done) >= total(ends) && total(ends) >= BigInt(expected.size);
      },
      120_000,
      'the process role to commit every raw record',
    );
    const t0 = performance.now();
    await runtime.stop();
    stopped = true;
    const stopMs = performance.now() - t0;
    assert.ok(stopMs < 5000, `stop drained at once (${Math.round(stopMs)} ms), no wait on an unread topic`);

    const lake = await lakeIds(config.lake.dir);
    const missing = [...expected.keys()].filter((id) => !lake.ids.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `every event in the lake (${missing.length} missing)`);
    const onZeek = await topicIds(bus, [routes[0].topic], zeekIds.length);
    assert.deepEqual(
      zeekIds.filter((id) => !onZeek.has(id)).slice(0, 5),
      [],
      'every Zeek event on zeek-normalized',
    );
    assert.equal(onZeek.size, zeekIds.length, 'and nothing else on it');
    const onAlerts = await topicIds(bus, [routes[1].topic], alertIds.length);
    assert.deepEqual(
      alertIds.filter((id) => !onAlerts.has(id)).slice(0, 5),
      [],
      'every IDS alert on security_alerts',
    );
  } finally {
    if (!stopped) await runtime.stop().catch(() => {});
    await bus.close();
  }
});
