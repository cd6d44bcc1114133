import { Registry } from 'prom-client';
import type { Telemetry } from '../core/telemetry.ts';

/**
 * The process worker's metrics, counted on the role's thread: the worker's engine, rules and lake
 * update a Telemetry whose metrics only record what was done to them (counters summed per label
 * set, gauges' last values, histogram observations); the worker sends that with its replies and
 * the role applies it to the process's real Telemetry, so /metrics shows one set of series
 * whichever thread did the work (socstream_events_out_total, socstream_flushes_total,
 * socstream_rule_matches_total, socstream_sink_blocked, …).
 */
export interface MetricOps {
  /** [metric, labels, sum of increments] */
  inc: Array<[string, Record<string, string | number>, number]>;
  /** [metric, labels, last value] */
  set: Array<[string, Record<string, string | number>, number]>;
  /** [metric, labels, value], in order */
  observe: Array<[string, Record<string, string | number>, number]>;
}

type Labels = Record<string, string | number>;

/** prom-client's (labels?, value?) call shapes, normalised. */
function args(a: unknown, b: unknown, fallback: number): [Labels, number] {
  if (typeof a === 'number') return [{}, a];
  return [(a as Labels | undefined) ?? {}, typeof b === 'number' ? b : fallback];
}

export function recordingTelemetry(): { telemetry: Telemetry; drain(): MetricOps | null } {
  const sums = new Map<string, [string, Labels, number]>();
  const gauges = new Map<string, [string, Labels, number]>();
  let observations: Array<[string, Labels, number]> = [];
  const metrics = new Map<string, object>();
  // A key per label set without JSON.stringify (called per rule match and per IOC hit).
  const keyOf = (name: string, labels: Labels) => {
    let key = name;
    for (const k in labels) key += `\u0000${k}\u0001${labels[k]}`;
    return key;
  };
  const metricFor = (name: string) => ({
    inc(a?: unknown, b?: unknown) {
      const [labels, n] = args(a, b, 1);
      const key = keyOf(name, labels);
      const entry = sums.get(key);
      if (entry) entry[2] += n;
      else sums.set(key, [name, labels, n]);
    },
    set(a: unknown, b?: unknown) {
      const [labels, v] = args(a, b, 0);
      gauges.set(keyOf(name, labels), [name, labels, v]);
    },
    observe(a: unknown, b?: unknown) {
      const [labels, v] = args(a, b, 0);
      observations.push([name, labels, v]);
    },
  });
  const registry = new Registry();
  const telemetry = new Proxy({} as Telemetry, {
    get(_target, name) {
      if (name === 'registry') return registry;
      if (typeof name !== 'string') return undefined;
      let metric = metrics.get(name);
      if (metric === undefined) {
        metric = metricFor(name);
        metrics.set(name, metric);
      }
      return metric;
    },
  });
  return {
    telemetry,
    drain() {
      if (sums.size === 0 && gauges.size === 0 && observations.length === 0) return null;
      const ops: MetricOps = { inc: [...sums.values()], set: [...gauges.values()], observe: observations };
      sums.clear();
      gauges.clear();
      observations = [];
      return ops;
    },
  };
}

interface AnyMetric {
  inc?(labels: Labels, n: number): void;
  set?(labels: Labels, v: number): void;
  observe?(labels: Labels, v: number): void;
}

/** Applies what the worker recorded to the process's Telemetry (unknown metric names are skipped). */
export function applyMetricOps(telemetry: Telemetry, ops: MetricOps): void {
  const metric = (name: string) => (telemetry as unknown as Record<string, AnyMetric | undefined>)[name];
  for (const [name, labels, n] of ops.inc) metric(name)?.inc?.(labels, n);
  for (const [name, labels, v] of ops.set) metric(name)?.set?.(labels, v);
  for (const [name, labels, v] of ops.observe) metric(name)?.observe?.(labels, v);
}
