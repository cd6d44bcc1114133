import type { Alert } from '../detect/alert.ts';

/**
 * Where alerts go (console, webhook, Kafka `alerts`, the alert store). Alerts arrive new or
 * updated (same id, new count/last_seen): outputs upsert by id or simply repeat the line.
 * The contract only: the outputs import it, and alert-outputs.ts builds the configured ones.
 */
export interface AlertOutput {
  readonly name: string;
  /** Resolves once the alerts are written, or queued by an output that says so (webhook). */
  write(alerts: readonly Alert[]): Promise<void>;
  /** Delivers or dead-letters what is queued, then releases every handle. */
  stop(): Promise<void>;
}

/** Writes every batch to each output in turn; one failing output does not starve the others. */
export function fanOut(outputs: readonly AlertOutput[]): AlertOutput {
  return {
    name: outputs.map((o) => o.name).join('+'),
    async write(alerts) {
      if (alerts.length === 0) return;
      const results = await Promise.allSettled(outputs.map((o) => o.write(alerts)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    async stop() {
      await Promise.allSettled(outputs.map((o) => o.stop()));
    },
  };
}
