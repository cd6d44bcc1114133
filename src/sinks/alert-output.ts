import type { ComponentContext, ComponentDefinition, Health, Lifecycle } from '../core/component.ts';
import type { Alert } from '../detect/alert.ts';

/**
 * Where alerts go (console, webhook, Kafka `alerts`, the alert store). Alerts arrive new or
 * updated (same id, new count/last_seen): outputs upsert by id or simply repeat the line.
 * The contract only: the outputs import it, and src/pipeline/alerts.ts builds the configured ones
 * through the registry (src/components.ts, ALERT_OUTPUTS).
 */
export interface AlertOutput {
  readonly name: string;
  /** Resolves once the alerts are written, or queued by an output that says so (webhook). */
  write(alerts: readonly Alert[]): Promise<void>;
  /** Delivers or dead-letters what is queued, then releases every handle. */
  stop(): Promise<void>;
}

/** An alert output as a component: the writer plus the one lifecycle (start, health, flush, stop). */
export interface AlertOutputComponent extends AlertOutput, Lifecycle {}

/**
 * An alert output's definition. Its config is its own keys of the `alerts:` section (the section is
 * assembled from them in src/config/schema.ts); `wanted` says whether the section asks for it.
 */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds outputs with different configs
export interface AlertOutputDefinition<C = any>
  extends ComponentDefinition<'alert_output', C, AlertOutputComponent> {
  wanted(config: C, ctx: ComponentContext): boolean;
}

/** One health of several: ok when every part is, the detail naming those that are not. */
export async function combinedHealth(parts: readonly { name: string; healthcheck(): Promise<Health> }[]) {
  const results = await Promise.all(
    parts.map(async (p) => ({ name: p.name, health: await p.healthcheck() })),
  );
  const bad = results.filter((r) => !r.health.ok);
  return bad.length === 0
    ? { ok: true }
    : { ok: false, detail: bad.map((r) => `${r.name}: ${r.health.detail ?? 'not ok'}`).join('; ') };
}

/** Writes every batch to each output in turn; one failing output does not starve the others. */
export function fanOut(outputs: readonly AlertOutputComponent[]): AlertOutputComponent {
  return {
    name: outputs.map((o) => o.name).join('+'),
    async start() {
      for (const o of outputs) await o.start();
    },
    healthcheck: () => combinedHealth(outputs),
    async flush() {
      await Promise.all(outputs.map((o) => o.flush()));
    },
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
