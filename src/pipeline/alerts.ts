import { ALERT_OUTPUTS } from '../components.ts';
import type { Config } from '../config/schema.ts';
import type { ComponentContext } from '../core/component.ts';
import { ownConfig } from '../core/registry.ts';
import { coalescingOutput } from '../detect/coalesce.ts';
import { type AlertOutputComponent, fanOut } from '../sinks/alert-output.ts';

/**
 * The alert outputs as configured, built through their registry (src/components.ts): no list of
 * outputs here. The alert store is built by createAlertStore (src/components.ts), re-exported here.
 */

/** What building the configured outputs needs from the runtime (a ComponentContext in parts). */
export interface AlertOutputContext extends Partial<Omit<ComponentContext, 'dataDir' | 'console'>> {
  dataDir: string;
  /** Console destination (default stdout). */
  stream?: NodeJS.WritableStream;
}

/**
 * A context for the definitions from the parts a caller has. The alert outputs treat the logger and
 * telemetry as optional (the CLI's tests build outputs without them), hence the casts.
 */
function componentContext(ctx: AlertOutputContext, topics: Config['topics']): ComponentContext {
  return {
    logger: ctx.logger as ComponentContext['logger'],
    telemetry: ctx.telemetry as ComponentContext['telemetry'],
    dataDir: ctx.dataDir,
    topics,
    ...(ctx.bus ? { bus: ctx.bus } : {}),
    ...(ctx.stream ? { console: ctx.stream } : {}),
  };
}

/**
 * Every output `alerts:` asks for (each ALERT_OUTPUTS definition whose `wanted` says so), as one
 * fan-out; updates coalesced by `alerts.update_interval_seconds` (src/detect/coalesce.ts). The
 * alert store is wired by the storage stage, not here.
 */
export function alertOutputsFromConfig(
  config: Pick<Config, 'alerts' | 'topics'>,
  ctx: AlertOutputContext,
): AlertOutputComponent {
  const context = componentContext(ctx, config.topics);
  const outputs = ALERT_OUTPUTS.all()
    .map((def) => ({ def, own: def.config.parse(ownConfig(def.config, config.alerts)) }))
    .filter(({ def, own }) => def.wanted(own, context))
    .map(({ def, own }) => def.create(own, context));
  const all = fanOut(outputs);
  const interval = config.alerts.update_interval_seconds * 1000;
  if (interval <= 0) return all;
  // Issue 15: an alert is raised once; its updates are coalesced.
  const coalesced = coalescingOutput(all, { intervalMs: interval });
  return { ...all, name: coalesced.name, write: coalesced.write, stop: coalesced.stop };
}

/** The configured alert store, built through ALERT_STORES (the function lives beside the registry). */
export { createAlertStore } from '../components.ts';
