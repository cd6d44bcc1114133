import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { d } from '../core/describe.ts';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { Alert } from '../detect/alert.ts';
import type { AlertOutputComponent, AlertOutputDefinition } from './alert-output.ts';

/** Its key of the `alerts:` section (moved from src/config/schema.ts). */
export const webhookAlertConfig = z
  .object({
    webhook: z
      .object({
        url: d(z.string().url(), 'Endpoint that receives each alert as a JSON POST'),
        headers: d(
          z.record(z.string(), z.string()).default({}),
          'Extra request headers (e.g. authorization)',
        ),
        max_retries: d(
          z.number().int().min(0).default(5),
          'Retries on network errors, timeouts, 408, 429 and 5xx, with backoff; then the alert is dead-lettered',
        ),
        queue_capacity: d(
          z.number().int().positive().default(1000),
          'Alerts queued for delivery before writers wait',
        ),
        timeout_ms: d(z.number().int().positive().default(5000), 'Per-request timeout'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * POSTs each alert as JSON to a webhook (Slack/Teams relays, SOAR intake, ...).
 *
 * - A bounded queue (alerts.webhook.queue_capacity): write() waits for room, so a slow endpoint
 *   slows detection down instead of growing memory; write() resolves once the alerts are queued.
 * - Retries with exponential backoff (base · 2^attempt, capped) on network errors, timeouts, 429
 *   and 5xx, up to max_retries; other 4xx are permanent (retrying cannot fix the request).
 * - Dead letter: an alert that cannot be delivered is appended as NDJSON
 *   `{failed_at, attempts, error, alert}` to `<data_dir>/alerts-webhook-dead.ndjson`, and counted.
 * - stop() stops taking alerts, delivers what is queued (no new backoff waits) and dead-letters the
 *   rest, so nothing is silently lost on shutdown.
 */
export type WebhookConfig = NonNullable<z.infer<typeof webhookAlertConfig>['webhook']>;

export interface WebhookOptions {
  config: WebhookConfig;
  dataDir: string;
  logger?: Logger;
  telemetry?: Telemetry;
  /** First retry delay; doubled per attempt. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface WebhookOutput extends AlertOutputComponent {
  /** Resolves when the queue is empty and nothing is in flight. */
  flush(): Promise<void>;
  stats(): { delivered: number; retries: number; deadLettered: number; queued: number };
  readonly deadLetterPath: string;
}

const DEAD_LETTER_FILE = 'alerts-webhook-dead.ndjson';

export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** attempt);
}

/** Network errors, timeouts, 429 and 5xx are worth retrying; other statuses are final. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export function createWebhookAlertOutput(options: WebhookOptions): WebhookOutput {
  const { config, logger, telemetry } = options;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const deadLetterPath = join(options.dataDir, DEAD_LETTER_FILE);
  const queue: Alert[] = [];
  const roomWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];
  const stopping = new AbortController();
  let worker: Promise<void> | null = null;
  let inFlight = false;
  let stopped = false;
  let delivered = 0;
  let retries = 0;
  let deadLettered = 0;

  async function deadLetter(alert: Alert, attempts: number, error: string): Promise<void> {
    await mkdir(dirname(deadLetterPath), { recursive: true });
    await appendFile(
      deadLetterPath,
      `${JSON.stringify({ failed_at: new Date().toISOString(), attempts, error, alert })}\n`,
    );
    deadLettered++;
    telemetry?.dlqWrites.inc({ output: 'alert_webhook' });
    logger?.warn({ alert_id: alert.id, attempts, error }, 'webhook alert dead-lettered');
  }

  /** One POST; null when delivered, else why not and whether a retry may help. */
  async function post(alert: Alert): Promise<{ error: string; retryable: boolean } | null> {
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...config.headers },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(config.timeout_ms),
      });
      await res.arrayBuffer(); // drain, so the connection is reused
      if (res.ok) return null;
      return { error: `HTTP ${res.status}`, retryable: isRetryableStatus(res.status) };
    } catch (err) {
      return { error: (err as Error).message ?? String(err), retryable: true };
    }
  }

  async function deliver(alert: Alert): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const failure = await post(alert);
      if (failure === null) {
        delivered++;
        return;
      }
      telemetry?.sinkErrors.inc({ sink: 'alert_webhook' });
      if (!failure.retryable || attempt >= config.max_retries || stopping.signal.aborted) {
        await deadLetter(alert, attempt + 1, failure.error);
        return;
      }
      retries++;
      try {
        await sleep(backoffDelayMs(attempt, baseDelayMs, maxDelayMs), undefined, { signal: stopping.signal });
      } catch {
        // stop() during a backoff: one last attempt happens on the next loop, then dead letter.
      }
    }
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const alert = queue.shift() as Alert;
      roomWaiters.shift()?.();
      inFlight = true;
      try {
        await deliver(alert);
      } catch (err) {
        // Only the dead-letter file itself can fail here: log it, keep the queue moving.
        logger?.error({ err, alert_id: alert.id }, 'webhook dead letter failed');
      } finally {
        inFlight = false;
      }
    }
    worker = null;
    for (const w of idleWaiters.splice(0)) w();
  }

  function kick(): void {
    if (!worker) worker = run();
  }

  return {
    name: 'alert_webhook',
    deadLetterPath,
    async start() {},
    async healthcheck() {
      if (stopped) return { ok: false, detail: 'stopped' };
      // A full queue means the endpoint is not keeping up; writers wait (backpressure).
      return queue.length >= config.queue_capacity
        ? { ok: false, detail: `queue full (${queue.length} alerts), endpoint slow or down` }
        : { ok: true };
    },
    async write(alerts) {
      for (const alert of alerts) {
        if (stopped) {
          await deadLetter(alert, 0, 'webhook output stopped');
          continue;
        }
        while (queue.length >= config.queue_capacity) {
          kick();
          await new Promise<void>((resolve) => roomWaiters.push(resolve));
        }
        queue.push(alert);
        kick();
      }
    },
    flush() {
      if (!worker && queue.length === 0 && !inFlight) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      stopped = true;
      stopping.abort();
      if (worker) await worker;
      for (const w of roomWaiters.splice(0)) w();
    },
    stats() {
      return { delivered, retries, deadLettered, queued: queue.length };
    },
  };
}

export const webhookAlertOutput: AlertOutputDefinition<z.infer<typeof webhookAlertConfig>> = {
  type: 'webhook',
  kind: 'alert_output',
  section: 'alerts',
  summary: 'POSTs each alert as JSON, with retries and backoff; undeliverable alerts are dead-lettered',
  config: webhookAlertConfig,
  example: { webhook: { url: 'http://127.0.0.1:9/alerts' } },
  wanted: (config) => config.webhook !== undefined,
  create: (config, ctx) => {
    if (!config.webhook) throw new UsageError('the webhook alert output needs alerts.webhook.url');
    return createWebhookAlertOutput({
      config: config.webhook,
      dataDir: ctx.dataDir,
      logger: ctx.logger,
      telemetry: ctx.telemetry,
    });
  },
};
