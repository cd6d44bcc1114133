/**
 * Every source of issue 3 starts, hands out batches, and stop() leaves no handle open (sockets,
 * watchers, timers, file handles) and ends its batches() iteration.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.ts';
import type { Source, SourceDefinition } from '../../src/core/component.ts';
import { fileSource } from '../../src/sources/file.ts';
import { httpSource } from '../../src/sources/http.ts';
import { kafkaSource } from '../../src/sources/kafka.ts';
import { StreamSource, stdinSource } from '../../src/sources/stdin.ts';
import { syslogTcpSource, syslogUdpSource } from '../../src/sources/syslog.ts';
import { fixtureLines, tempDir, testContext } from './helpers.ts';

const sshd = fixtureLines('sshd.log');

function handles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 30));
}

const dir = tempDir();
writeFileSync(join(dir, 'auth.log'), `${sshd.join('\n')}\n`);

const cases: Array<[string, () => Source]> = [
  [
    'file',
    () =>
      fileSource.create(
        fileSource.config.parse({ type: 'file', paths: [join(dir, '*.log')], poll_interval_ms: 20 }),
        testContext(dir),
      ),
  ],
  ...([syslogUdpSource, syslogTcpSource, httpSource] as SourceDefinition[]).map(
    (def) =>
      [def.type, () => def.create(def.config.parse({ type: def.type, port: 0 }), testContext())] as [
        string,
        () => Source,
      ],
  ),
  [
    'kafka (memory bus)',
    () => {
      const bus = new MemoryBus({ defaultPartitions: 1 });
      return kafkaSource.create(kafkaSource.config.parse({ type: 'kafka', topics: ['raw.x'] }), {
        ...testContext(),
        bus,
      });
    },
  ],
  [
    'stdin (stream)',
    () =>
      new StreamSource(stdinSource.config.parse({ type: 'stdin' }), testContext().telemetry, () =>
        Readable.from([Buffer.from(sshd[0])]),
      ),
  ],
];

for (const [name, make] of cases) {
  test(`${name}: stop() ends batches() and leaves no handle open`, async () => {
    await settle();
    const before = handles();
    const src = make();
    await src.start();
    const it = src.batches()[Symbol.asyncIterator]();
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 50));
    await src.stop();
    const result = await pending;
    if (!result.done) {
      await result.value.ack();
      assert.equal((await it.next()).done, true);
      // An ack after stop() starts a checkpoint write in the background; flush() awaits it.
      await src.flush();
    }
    await settle();
    assert.deepEqual(handles().sort(), before.sort());
  });
}
