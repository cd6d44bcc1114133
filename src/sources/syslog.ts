import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import type { Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { toInputRecords } from './lines.ts';
import { BatchQueue } from './queue.ts';

/**
 * `syslog_udp` and `syslog_tcp`: listeners for RFC 3164 / RFC 5424 messages. The source only
 * frames; the sshd parser reads the header.
 *
 * - UDP (RFC 5426): one message per datagram; a trailing LF/CRLF/NUL is dropped. Under
 *   backpressure (queue full) datagrams are dropped and counted — UDP has no way to push back.
 * - TCP (RFC 6587): each message is either octet-counted (`MSG-LEN SP SYSLOG-MSG`, §3.4.1) or
 *   newline-terminated (non-transparent framing, §3.4.2). A syslog message starts with `<`, so a
 *   leading digit means octet counting; the two may alternate on one connection. Under backpressure
 *   the socket is paused, which pushes back to the sender through TCP flow control.
 * Syslog has no acknowledgements, so acks only pace the queue. Positions are `syslog_udp:<name>:<start
 * time>` plus a sequence number: unique across restarts, so ids never collide with an earlier run.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

const common = {
  name: d(z.string().min(1).default('syslog'), 'Names the stream in positions and metrics'),
  host: d(z.string().default('127.0.0.1'), 'Listen address; 0.0.0.0 or :: to accept from other hosts'),
  port: d(z.number().int().min(0).max(65535).default(5514), 'Listen port (514 needs privileges)'),
  format: d(z.string().optional(), 'Parser format (e.g. sshd); default: detected'),
  max_message_bytes: d(
    z.number().int().positive().default(65_536),
    'Longer messages are cut to this and rejected as too long',
  ),
  queue_capacity: d(
    z.number().int().positive().default(10_000),
    'Messages held before backpressure (UDP drops, TCP pauses the sender)',
  ),
  batch_max_records: d(z.number().int().positive().default(500), 'Messages per batch at most'),
};

export const syslogUdpConfig = z.object({ type: z.literal('syslog_udp'), ...common }).strict();
export const syslogTcpConfig = z
  .object({
    type: z.literal('syslog_tcp'),
    ...common,
    max_connections: d(z.number().int().positive().default(1024), 'Further connections are refused'),
  })
  .strict();
export type SyslogUdpConfig = z.infer<typeof syslogUdpConfig>;
export type SyslogTcpConfig = z.infer<typeof syslogTcpConfig>;

export interface SyslogMessage {
  text: string;
  byteLength: number;
  tooLong: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const NUL = 0x00;
/** Longest MSG-LEN we wait for before deciding a digit-led frame is not octet-counted. */
const MAX_LEN_DIGITS = 10;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** A message without its trailing LF / CRLF / NUL terminator (senders add them inconsistently). */
export function messageOf(buf: Buffer, start: number, end: number, maxBytes: number): SyslogMessage | null {
  while (end > start && (buf[end - 1] === LF || buf[end - 1] === CR || buf[end - 1] === NUL)) end--;
  const byteLength = end - start;
  if (byteLength === 0) return null;
  if (byteLength > maxBytes)
    return { text: buf.toString('utf8', start, start + maxBytes), byteLength, tooLong: true };
  return { text: buf.toString('utf8', start, end), byteLength, tooLong: false };
}

/** RFC 6587 framing for one TCP connection: octet counting and non-transparent framing, mixed. */
export class SyslogTcpFramer {
  readonly maxBytes: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes still to skip of an over-long octet-counted message. */
  #skipBytes = 0;
  /** Skipping an over-long newline-terminated message up to its LF; counts its length. */
  #skipLine: { head: string; length: number } | null = null;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer, out: SyslogMessage[]): void {
    let buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let pos = 0;
    while (pos < buf.length) {
      if (this.#skipBytes > 0) {
        const n = Math.min(this.#skipBytes, buf.length - pos);
        this.#skipBytes -= n;
        pos += n;
        continue;
      }
      if (this.#skipLine) {
        const nl = buf.indexOf(LF, pos);
        if (nl === -1) {
          this.#skipLine.length += buf.length - pos;
          pos = buf.length;
          break;
        }
        this.#skipLine.length += nl - pos;
        out.push({ text: this.#skipLine.head, byteLength: this.#skipLine.length, tooLong: true });
        this.#skipLine = null;
        pos = nl + 1;
        continue;
      }
      if (isDigit(buf[pos])) {
        const consumed = this.#octetCounted(buf, pos, out);
        if (consumed === -1) break; // need more bytes
        if (consumed > 0) {
          pos += consumed;
          continue;
        }
      }
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        if (buf.length - pos > this.maxBytes) {
          this.#skipLine = { head: buf.toString('utf8', pos, pos + this.maxBytes), length: buf.length - pos };
          pos = buf.length;
        }
        break;
      }
      const m = messageOf(buf, pos, nl, this.maxBytes);
      if (m) out.push(m);
      pos = nl + 1;
    }
    buf = buf.subarray(pos);
    // Copy the (small) remainder so the socket's chunk can be collected.
    this.#buf = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  /** Bytes consumed by one octet-counted frame, 0 if this is not one, -1 if more bytes are needed. */
  #octetCounted(buf: Buffer, pos: number, out: SyslogMessage[]): number {
    let i = pos;
    let length = 0;
    while (i < buf.length && isDigit(buf[i]) && i - pos < MAX_LEN_DIGITS)
      length = length * 10 + (buf[i++] - 0x30);
    if (i === buf.length) return -1;
    if (buf[i] !== SP) return 0; // digits not followed by SP: a (malformed) newline-framed line
    const start = i + 1;
    if (length > this.maxBytes) {
      if (buf.length - start < this.maxBytes) return -1;
      out.push({
        text: buf.toString('utf8', start, start + this.maxBytes),
        byteLength: length,
        tooLong: true,
      });
      const available = buf.length - start;
      this.#skipBytes = length - Math.min(length, available);
      return start - pos + Math.min(length, available);
    }
    if (buf.length - start < length) return -1;
    const m = messageOf(buf, start, start + length, this.maxBytes);
    if (m) out.push(m);
    return start - pos + length;
  }
}

abstract class SyslogSource implements Source {
  protected readonly config: SyslogUdpConfig | SyslogTcpConfig;
  protected readonly logger: Logger;
  protected readonly telemetry: Telemetry;
  protected readonly queue: BatchQueue;
  protected readonly label: string;
  #streamName = '';
  #sequence = 0;
  #started = false;

  constructor(config: SyslogUdpConfig | SyslogTcpConfig, ctx: { logger: Logger; telemetry: Telemetry }) {
    this.config = config;
    this.label = `${config.type}:${config.name}`;
    this.logger = ctx.logger.child({ component: `source.${config.type}`, name: config.name });
    this.telemetry = ctx.telemetry;
    this.queue = new BatchQueue(config.queue_capacity);
  }

  /** The bound port (useful with port 0). */
  abstract get port(): number;
  protected abstract listen(): Promise<void>;
  protected abstract close(): Promise<void>;

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#streamName = `${this.label}:${Date.now()}`;
    await this.listen();
    this.logger.info({ host: this.config.host, port: this.port }, 'listening');
  }

  async healthcheck(): Promise<Health> {
    return this.#started && !this.queue.closed ? { ok: true } : { ok: false, detail: 'not listening' };
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.queue.close();
    if (this.#started) await this.close();
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    await this.start();
    yield* this.queue.drain();
  }

  protected toBatch(messages: SyslogMessage[]): SourceBatch {
    const records = toInputRecords(messages, this.config.format, () => ({
      kind: 'stream',
      name: this.#streamName,
      sequence: this.#sequence++,
    }));
    this.telemetry.sourceRecords.inc({ source: this.label }, records.length);
    return { records, ack: async () => {} };
  }
}

class SyslogUdpSource extends SyslogSource {
  #socket: UdpSocket | null = null;
  #pending: SyslogMessage[] = [];
  #flushScheduled = false;

  get port(): number {
    return this.#socket?.address().port ?? 0;
  }

  protected async listen(): Promise<void> {
    const socket = createSocket(this.config.host.includes(':') ? 'udp6' : 'udp4');
    this.#socket = socket;
    socket.on('message', (msg) => this.#onMessage(msg));
    socket.on('error', (err) => this.logger.error({ err: err.message }, 'udp socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.config.port, this.config.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  }

  #onMessage(msg: Buffer): void {
    const m = messageOf(msg, 0, msg.length, this.config.max_message_bytes);
    if (!m) return;
    this.#pending.push(m);
    if (this.#pending.length >= this.config.batch_max_records) this.#flushPending();
    else if (!this.#flushScheduled) {
      // Datagrams arriving in one event-loop turn share a batch.
      this.#flushScheduled = true;
      setImmediate(() => this.#flushPending());
    }
  }

  #flushPending(): void {
    this.#flushScheduled = false;
    if (!this.#pending.length) return;
    const messages = this.#pending;
    this.#pending = [];
    if (!this.queue.hasRoom(messages.length) || !this.queue.offer(this.toBatch(messages))) {
      this.telemetry.sourceDropped.inc({ source: this.label, reason: 'backpressure' }, messages.length);
    }
  }

  protected async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

class SyslogTcpSource extends SyslogSource {
  #server: Server | null = null;
  readonly #connections = new Set<Socket>();

  get port(): number {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  protected async listen(): Promise<void> {
    const server = createServer((socket) => this.#onConnection(socket));
    server.maxConnections = (this.config as SyslogTcpConfig).max_connections;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  #onConnection(socket: Socket): void {
    this.#connections.add(socket);
    const framer = new SyslogTcpFramer(this.config.max_message_bytes);
    const out: SyslogMessage[] = [];
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk, out);
      while (out.length) {
        const batch = this.toBatch(out.splice(0, this.config.batch_max_records));
        if (this.queue.offer(batch)) continue;
        // Queue full: stop reading; TCP flow control pushes back to the sender.
        socket.pause();
        void this.#deliverLater(batch, out.splice(0), socket);
        return;
      }
    });
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'connection error'));
    socket.on('close', () => this.#connections.delete(socket));
  }

  async #deliverLater(batch: SourceBatch, rest: SyslogMessage[], socket: Socket): Promise<void> {
    const batches = [batch];
    for (let i = 0; i < rest.length; i += this.config.batch_max_records) {
      batches.push(this.toBatch(rest.slice(i, i + this.config.batch_max_records)));
    }
    for (const b of batches) {
      while (!this.queue.offer(b)) {
        if (this.queue.closed) return;
        await this.queue.waitForRoom(b.records.length);
      }
    }
    socket.resume();
  }

  protected async close(): Promise<void> {
    for (const s of this.#connections) s.destroy();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const syslogUdpSource: SourceDefinition<SyslogUdpConfig> = {
  type: 'syslog_udp',
  kind: 'source',
  summary: 'Listens for syslog messages (RFC 3164/5424) over UDP, one per datagram',
  config: syslogUdpConfig,
  example: { type: 'syslog_udp', port: 5514 },
  create: (config, ctx) => new SyslogUdpSource(config, ctx),
};

export const syslogTcpSource: SourceDefinition<SyslogTcpConfig> = {
  type: 'syslog_tcp',
  kind: 'source',
  summary: 'Listens for syslog over TCP with octet-counted or newline framing (RFC 6587)',
  config: syslogTcpConfig,
  example: { type: 'syslog_tcp', port: 5514 },
  create: (config, ctx) => new SyslogTcpSource(config, ctx),
};
