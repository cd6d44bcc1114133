import { createHash, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Health, Source, SourceBatch, SourceDefinition } from '../core/component.ts';
import type { InputRecord } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { type FramedLine, LineFramer, toInputRecords } from './lines.ts';
import { BatchQueue } from './queue.ts';

/**
 * `http`: `POST /ingest` on its own port. The body is NDJSON or raw lines (framed the same way;
 * parsing is the parsers' job), any content type. `?format=` overrides the source's `format`.
 *
 * Answers:
 * - 401 without the bearer token (when one is configured); checked before the body is read.
 * - 413 when the body exceeds `body_limit_bytes` (compressed, and again once gunzipped: a
 *   `Content-Encoding: gzip` body is accepted, a zip bomb is not); 415 for other encodings.
 * - 429 (with Retry-After) when the bounded queue is full: the pipeline is applying backpressure.
 * - `respond_after: acked` (default): 200 once every sink has durably written the batch (the
 *   source's ack), so a 200 means the lines are safe; 504 if that takes over `ack_timeout_ms`
 *   (the lines may still arrive: retrying can duplicate). `respond_after: queued`: 202 as soon as
 *   the batch is queued — faster, but a crash can lose what was accepted.
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither length nor content leaks
 * through timing; a clear-text `token` is hashed at startup and never logged.
 */
const d = <T extends z.ZodType>(schema: T, description: string): T => schema.describe(description) as T;

export const httpSourceConfig = z
  .object({
    type: z.literal('http'),
    name: d(z.string().min(1).default('http'), 'Names the stream in positions and metrics'),
    host: d(z.string().default('127.0.0.1'), 'Listen address'),
    port: d(z.number().int().min(0).max(65535).default(8088), 'Listen port (separate from the API)'),
    format: d(z.string().optional(), 'Parser format; `?format=` on a request overrides it'),
    token_sha256: d(
      z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      'SHA-256 hex of the bearer token (preferred)',
    ),
    token: d(
      z.string().min(16).optional(),
      'The bearer token in clear (hashed at start); prefer token_sha256',
    ),
    body_limit_bytes: d(z.number().int().positive().default(10_485_760), 'Larger bodies get 413'),
    max_line_bytes: d(z.number().int().positive().default(1_048_576), 'Longer lines are cut and rejected'),
    queue_capacity: d(z.number().int().positive().default(10_000), 'Lines queued before requests get 429'),
    respond_after: d(
      z.enum(['acked', 'queued']).default('acked'),
      'acked: 200 once durably written; queued: 202 once queued',
    ),
    ack_timeout_ms: d(
      z.number().int().positive().default(30_000),
      'respond_after acked: 504 after this long',
    ),
  })
  .strict();

export type HttpSourceConfig = z.infer<typeof httpSourceConfig>;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const gunzipAsync = promisify(gunzip);

/** Constant-time bearer check against a stored SHA-256 digest. */
export function bearerMatches(header: string | undefined, digest: Buffer): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  return timingSafeEqual(sha256(header.slice(7).trim()), digest);
}

class HttpSource implements Source {
  readonly #config: HttpSourceConfig;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #queue: BatchQueue;
  readonly #label: string;
  #app: FastifyInstance | null = null;
  #streamName = '';
  #sequence = 0;
  #port = 0;
  /** Resolved by stop(): requests still waiting for their ack get 503 instead of hanging. */
  #stopping: Promise<'stopping'>;
  #signalStop!: () => void;

  constructor(config: HttpSourceConfig, ctx: { logger: Logger; telemetry: Telemetry }) {
    this.#config = config;
    this.#label = `http:${config.name}`;
    this.#logger = ctx.logger.child({ component: 'source.http', name: config.name });
    this.#telemetry = ctx.telemetry;
    this.#queue = new BatchQueue(config.queue_capacity);
    this.#stopping = new Promise((resolve) => {
      this.#signalStop = () => resolve('stopping');
    });
  }

  get port(): number {
    return this.#port;
  }

  /** The app without listening: tests use `inject()`. */
  buildApp(): FastifyInstance {
    if (this.#app) return this.#app;
    this.#streamName ||= `${this.#label}:${Date.now()}`;
    const config = this.#config;
    const digest = config.token_sha256
      ? Buffer.from(config.token_sha256, 'hex')
      : config.token
        ? sha256(config.token)
        : null;
    const app = Fastify({ bodyLimit: config.body_limit_bytes, logger: false });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onResponse', async (req, reply) => {
      this.#telemetry.httpRequests.inc({
        route: req.routeOptions.url ?? 'unknown',
        status: String(reply.statusCode),
      });
    });
    app.post<{ Querystring: { format?: string } }>(
      '/ingest',
      {
        onRequest: async (req, reply) => {
          if (digest && !bearerMatches(req.headers.authorization, digest)) {
            reply
              .header('www-authenticate', 'Bearer')
              .code(401)
              .send({ error: 'missing or wrong bearer token' });
          }
        },
      },
      async (req, reply) => {
        let body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
        const encoding = req.headers['content-encoding'];
        if (encoding === 'gzip' && body.length) {
          try {
            body = await gunzipAsync(body, { maxOutputLength: config.body_limit_bytes });
          } catch (err) {
            const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
            return reply
              .code(tooLarge ? 413 : 400)
              .send({ error: tooLarge ? 'body too large once decompressed' : 'body is not valid gzip' });
          }
        } else if (encoding && encoding !== 'identity' && encoding !== 'gzip') {
          return reply
            .code(415)
            .send({ error: `unsupported content-encoding ${encoding}; use gzip or none` });
        }
        const format = req.query.format || config.format;
        const records = this.#records(body, format);
        if (!records.length) return reply.code(200).send({ accepted: 0 });
        let acked!: () => void;
        const ackedPromise = new Promise<void>((resolve) => {
          acked = resolve;
        });
        const batch: SourceBatch = {
          records,
          ack: async () => acked(),
        };
        if (!this.#queue.offer(batch)) {
          this.#telemetry.sourceDropped.inc({ source: this.#label, reason: 'backpressure' }, records.length);
          return reply.code(429).header('retry-after', '1').send({ error: 'pipeline busy, retry later' });
        }
        this.#telemetry.sourceRecords.inc({ source: this.#label }, records.length);
        if (config.respond_after === 'queued') return reply.code(202).send({ accepted: records.length });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), config.ack_timeout_ms);
        });
        const outcome = await Promise.race([ackedPromise, timedOut, this.#stopping]);
        clearTimeout(timer);
        if (outcome === 'stopping') return reply.code(503).send({ error: 'shutting down; retry' });
        if (outcome === 'timeout') {
          return reply
            .code(504)
            .send({ error: 'not acknowledged in time; the lines may still be delivered' });
        }
        return reply.code(200).send({ accepted: records.length });
      },
    );
    this.#app = app;
    return app;
  }

  #records(body: Buffer, formatHint: string | undefined): InputRecord[] {
    const framer = new LineFramer(this.#config.max_line_bytes);
    const lines: FramedLine[] = [];
    framer.push(body, lines);
    framer.end(lines);
    const records = toInputRecords(lines, formatHint, () => ({
      kind: 'stream',
      name: this.#streamName,
      sequence: this.#sequence++,
    }));
    return records;
  }

  async start(): Promise<void> {
    if (this.#port) return;
    const app = this.buildApp();
    await app.listen({ host: this.#config.host, port: this.#config.port });
    const address = app.server.address();
    this.#port = address && typeof address === 'object' ? address.port : this.#config.port;
    if (!this.#config.token && !this.#config.token_sha256) {
      this.#logger.warn('http ingest has no bearer token: anyone who can reach the port can send');
    }
    this.#logger.info({ host: this.#config.host, port: this.#port }, 'listening');
  }

  async healthcheck(): Promise<Health> {
    return this.#port && !this.#queue.closed ? { ok: true } : { ok: false, detail: 'not listening' };
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.#signalStop();
    this.#queue.close();
    await this.#app?.close();
    this.#app = null;
  }

  async *batches(): AsyncGenerator<SourceBatch> {
    await this.start();
    yield* this.#queue.drain();
  }
}

export const httpSource: SourceDefinition<HttpSourceConfig> = {
  type: 'http',
  kind: 'source',
  summary: 'POST /ingest: NDJSON or raw lines over HTTP, bearer token, 413/429 limits',
  config: httpSourceConfig,
  example: { type: 'http', port: 8088 },
  create: (config, ctx) => new HttpSource(config, ctx),
};
