import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Bus, BusRecord } from '../core/bus.ts';
import type { GeneratedItem, GenFormat } from './types.ts';
import { type ZeekPath, zeekTsvFooter, zeekTsvHeader } from './zeek.ts';

/** Where generated lines go: stdout, a directory of log files, or a bus topic. */
export interface LineOutput {
  write(items: readonly GeneratedItem[]): Promise<void>;
  close(endMs: number): Promise<void>;
  /** True once the reader went away (`generate | head`): the run stops quietly. */
  ended?(): boolean;
}

async function writeText(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

const isEpipe = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'EPIPE';

/** All lines interleaved in time order, one per line (Zeek as JSON: self-describing). */
export function streamOutput(stream: Writable): LineOutput {
  let ended = false;
  // A closed pipe is the reader saying "enough", not a failure.
  stream.on('error', (err) => {
    if (isEpipe(err)) ended = true;
  });
  return {
    async write(items) {
      if (ended) return;
      let text = '';
      for (const it of items) text += `${it.line}\n`;
      try {
        await writeText(stream, text);
      } catch (err) {
        if (!isEpipe(err)) throw err;
        ended = true;
      }
    },
    async close() {},
    ended: () => ended,
  };
}

/** File names as the tools lay them out; Zeek gets one file per log path. */
export function fileNameFor(format: GenFormat, logType: string): string {
  switch (format) {
    case 'zeek-tsv':
      return `${logType}.log`;
    case 'zeek-json':
      return `${logType}.json`;
    case 'suricata-eve':
      return 'eve.json';
    case 'sshd':
      return 'auth.log';
    case 'auth-json':
      return 'auth_events.json';
    case 'nginx':
      return 'access.log';
    case 'app-json':
      return 'app.json';
    case 'threat-json':
      return 'threat-events.json';
  }
}

/**
 * `file:DIR`: one file per log under DIR (conn.log, dns.log, eve.json, auth.log, access.log, …).
 * Zeek TSV files start with Zeek's header and end with `#close`, like a rotated Zeek log.
 */
export function directoryOutput(dir: string, openMs: number): LineOutput {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, { stream: WriteStream; pending: string; tsv: boolean }>();
  const fileFor = (it: GeneratedItem) => {
    const name = fileNameFor(it.format, it.logTypeHint);
    let f = files.get(name);
    if (!f) {
      const tsv = it.format === 'zeek-tsv';
      f = { stream: createWriteStream(join(dir, name)), pending: '', tsv };
      if (tsv) f.pending = `${zeekTsvHeader(it.logTypeHint as ZeekPath, openMs)}\n`;
      files.set(name, f);
    }
    return f;
  };
  return {
    async write(items) {
      for (const it of items) fileFor(it).pending += `${it.line}\n`;
      for (const f of files.values()) {
        if (!f.pending) continue;
        const text = f.pending;
        f.pending = '';
        await writeText(f.stream, text);
      }
    },
    async close(endMs) {
      for (const f of files.values()) {
        if (f.tsv) f.stream.write(`${zeekTsvFooter(endMs)}\n`);
        f.stream.end();
        await once(f.stream, 'close');
      }
    },
  };
}

/**
 * `kafka:TOPIC`: each line a record on TOPIC (`{format}` in the name expands to the line's format,
 * e.g. `kafka:raw.{format}`), keyed by the line's entity, with a `format` header for the parser.
 * Records carry the produce time as their Kafka timestamp, as a log shipper's do; the event time is
 * in the line. (Stamping the event time made the broker's time retention delete a `--start` in the
 * past before anything read it: 24 h retention judged a segment by its newest timestamp.)
 */
export function busOutput(bus: Bus, topicTemplate: string): LineOutput {
  const encoder = new TextEncoder();
  return {
    async write(items) {
      const byTopic = new Map<string, BusRecord[]>();
      for (const it of items) {
        const topic = topicTemplate.replaceAll('{format}', it.format);
        let list = byTopic.get(topic);
        if (!list) {
          list = [];
          byTopic.set(topic, list);
        }
        list.push({
          key: it.key,
          value: encoder.encode(it.line),
          headers: { format: it.format, log_type: it.logTypeHint },
        });
      }
      await Promise.all([...byTopic].map(([topic, records]) => bus.publish(topic, records)));
    },
    async close() {},
  };
}
