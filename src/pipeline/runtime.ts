import { createBus } from '../bus/create.ts';
import type { Config } from '../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import type { ComponentContext, Health } from '../core/component.ts';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { createCorrelationState, createEventMatcher, type DetectorOptions } from '../detect/detector.ts';
import { createCompactor } from '../lake/compactor.ts';
import { startHealthLog } from '../metrics/health.ts';
import { createCorrelateRole } from '../roles/correlate.ts';
import { createIngestRole } from '../roles/ingest.ts';
import { createServeRole, type RuleReloadResult, type ServeRoleOptions } from '../roles/serve.ts';
import { lakeDir } from '../sinks/parquet/sink.ts';
import { alertOutputsFromConfig } from './alerts.ts';
import { buildEngine, buildProcessRole, buildSources, buildStoreRole, detectorOptions } from './build.ts';
import { groupsOf, topicPlan } from './topics.ts';

/**
 * Starts the configured roles in this process, over the configured bus. `all` is the embedded
 * pipeline when the bus is `memory` and a single-process deployment on Kafka otherwise. Consumers
 * start before producers (the memory bus keeps no backlog for a topic nobody subscribed to yet);
 * stop() stops intake, waits until every group has committed what was produced (bounded), then
 * stops the consumers, which flush and commit.
 */
export const ROLE_NAMES = ['ingest', 'process', 'correlate', 'store', 'serve'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RuntimeOptions {
  config: Config;
  /** The config file's name, for error messages. */
  file: string;
  roles: ReadonlySet<RoleName>;
  logger: Logger;
  telemetry: Telemetry;
  serve?: Omit<ServeRoleOptions, 'config' | 'bus' | 'ctx'>;
  /** Bound for draining at stop (default 8 s, inside the 10 s shutdown bound). */
  drainTimeoutMs?: number;
}

export interface Runtime {
  bus: Bus;
  url?: string;
  /** Token lines etc. the CLI prints. */
  live?: ReturnType<typeof createServeRole>['live'];
  /** Resolves when every source has ended (a finite generator, stdin EOF). */
  sourcesEnded: Promise<void>;
  /** A role failed: the CLI shuts down with exit 1. */
  failed: Promise<Error>;
  /** Waits until the pipeline's groups have committed everything produced so far. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Loads `detect.rules` again into the process and correlate roles running here. */
  reloadRules(): Promise<RuleReloadResult>;
  stop(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, roles, logger, telemetry } = options;
  const ctx: ComponentContext = { logger, telemetry, dataDir: config.data_dir };
  const bus = createBus(config.bus, config.topics);
  ctx.bus = bus;
  const sources = buildSources(config, ctx, options.file);
  const plan = topicPlan(
    config,
    sources.map((s) => s.topic),
  );
  await bus.createTopics(plan.specs);
  const groups = groupsOf(config);

  let fail: (err: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  const guard = (role: string, p: Promise<void>) =>
    p.catch((err: Error) => {
      logger.error({ err, role }, 'role failed');
      fail(err);
    });

  /** Waits for a role's subscription; a role failing first fails the start. */
  const untilReady = (ready: Promise<void>) =>
    Promise.race([
      ready,
      failed.then((err) => {
        throw err;
      }),
    ]);
  const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
  const drainGroups: Array<{ group: string; topics: string[] }> = [];
  /** Flushed while draining: the store commits only what its lake flushed. */
  const drainFlushes: Array<() => Promise<void>> = [];
  const runtime: Partial<Runtime> = { bus };

  if (roles.has('store')) {
    const store = buildStoreRole(config, plan, { bus, ctx });
    guard('store', store.run());
    await untilReady(store.ready);
    stoppers.push({ name: 'store', stop: () => store.stop() });
    drainGroups.push({ group: groups.store, topics: [...plan.lakeInputs, plan.alerts] });
    drainFlushes.push(() => store.flush());
  }
  // Admin rule reload (POST /api/rules/reload): new rules for the roles running in this process.
  const reloadTargets: Array<(next: DetectorOptions) => void> = [];
  const reloadRules = async (): Promise<RuleReloadResult> => {
    if (reloadTargets.length === 0) {
      throw new UsageError(
        'no process or correlate role runs in this process: restart those members to load new rules',
      );
    }
    const next = detectorOptions(config, ctx);
    for (const apply of reloadTargets) apply(next);
    logger.info({ rules: next.ruleSet.rules.length }, 'rules reloaded');
    return {
      rules: next.ruleSet.rules.length,
      correlations: next.ruleSet.correlations.length,
      problems: (next.ruleSet as { problems?: unknown[] }).problems?.length ?? 0,
    };
  };
  let serve: ReturnType<typeof createServeRole> | undefined;
  // Background compaction (src/lake/compactor.ts) where the lake is written: beside a process role,
  // or a store role with lake inputs. Members sharing a lake take turns per hour (a lock file).
  const writesLake = roles.has('process') || (roles.has('store') && plan.lakeInputs.length > 0);
  let compactorHealth: (() => Promise<Health>) | undefined;
  if (roles.has('serve')) {
    // The live tail: fed by the process role when it runs here, else from the event topics.
    const eventTopics = roles.has('process') ? [] : plan.eventOutputs;
    // Readiness reports the compactor running here (below), else the lake's lag (serve's default).
    const advisories = async (): Promise<Record<string, Health>> =>
      compactorHealth ? { lake_compaction: await compactorHealth() } : {};
    serve = createServeRole({
      config,
      bus,
      ctx,
      reloadRules,
      eventTopics,
      ...(writesLake && config.lake.compact_interval_seconds > 0 ? { advisories } : {}),
      ...options.serve,
    });
    const server = await serve.start();
    runtime.url = server.url;
    runtime.live = serve.live;
  }
  // Detection runs in two halves (issue 5): rules in the process role, state in the correlate role;
  // the rules are loaded once for both.
  let detect: DetectorOptions | undefined;
  const detection = (): DetectorOptions => {
    detect ??= detectorOptions(config, ctx);
    return detect;
  };
  if (roles.has('correlate')) {
    const output = alertOutputsFromConfig(
      { ...config, alerts: { ...config.alerts, kafka: true } },
      { dataDir: config.data_dir, logger, telemetry, bus },
    );
    await output.start();
    const correlate = createCorrelateRole({
      bus,
      group: groups.correlate,
      topic: plan.matches,
      state: createCorrelationState(detection()),
      // Every partition of the process role's inputs holds the watermark until it delivers or idles.
      origins: plan.raw.flatMap((i) =>
        Array.from({ length: config.topics.partitions }, (_, p) => `${i.topic}:${p}`),
      ),
      output,
      ctx,
    });
    guard('correlate', correlate.run());
    await untilReady(correlate.ready);
    // A reload starts the correlation windows again, empty (documented in docs/api.md).
    reloadTargets.push((next) => correlate.setState(createCorrelationState(next)));
    stoppers.push({ name: 'correlate', stop: () => correlate.stop() });
    drainGroups.push({ group: groups.correlate, topics: [config.topics.matches] });
  }
  if (roles.has('process')) {
    // With a worker (process.workers) the engine is built in the worker, not here.
    const engine = config.process.workers > 0 ? undefined : buildEngine(config, ctx, options.file);
    await engine?.enricher.start();
    const live = serve?.live;
    const processRole = buildProcessRole(config, plan, {
      bus,
      ctx,
      processor: engine?.processor,
      file: options.file,
      detection: detection(),
      onEvents: live ? (events) => live.publishEvents(events) : undefined,
    });
    guard('process', processRole.run());
    await untilReady(processRole.ready);
    reloadTargets.push((next) => processRole.setMatcher(createEventMatcher(next)));
    stoppers.push({
      name: 'process',
      stop: async () => {
        await processRole.stop();
        await engine?.enricher.stop();
      },
    });
    drainGroups.push({ group: groups.process, topics: plan.raw.map((i) => i.topic) });
    drainFlushes.push(() => processRole.flush());
  }
  let sourcesEnded: Promise<void> = new Promise(() => {});
  let settleIntake: (timeoutMs: number) => Promise<void> = async () => {};
  if (roles.has('ingest') && sources.length > 0) {
    const ingest = createIngestRole({ bus, sources, ctx });
    sourcesEnded = guard('ingest', ingest.run());
    stoppers.unshift({ name: 'ingest', stop: () => ingest.stop() });
    settleIntake = (timeoutMs) => ingest.settle(timeoutMs);
  }
  if (serve) {
    const s = serve;
    stoppers.push({ name: 'serve', stop: () => s.stop() });
  }
  if (writesLake && config.lake.compact_interval_seconds > 0) {
    const compactor = createCompactor({
      lakeDir: lakeDir(config.lake),
      intervalMs: config.lake.compact_interval_seconds * 1000,
      openHourMaxFiles: config.lake.compact_open_hour_max_files,
      memoryLimitMb: config.lake.compact_memory_limit_mb,
      logger,
      telemetry,
    });
    await compactor.start();
    compactorHealth = () => compactor.healthcheck();
    stoppers.push({ name: 'compactor', stop: () => compactor.stop() });
  }
  const health = startHealthLog({ telemetry, logger });
  const capacity = config.bus.type === 'memory' ? config.bus.memory.queue_capacity : undefined;
  const lagTimer = setInterval(
    () => void updateLag(bus, drainGroups, telemetry, capacity).catch(() => {}),
    config.bus.type === 'memory' ? 2_000 : 10_000,
  );

  /**
   * Waits until every group has committed what was produced. The process role (and a store role
   * with lake inputs) commits only after a lake flush, which would otherwise wait for
   * lake.flush_interval_seconds (30 s by default, past the 10 s shutdown bound): while draining, the
   * lake is flushed again as soon as the last flush ends.
   */
  async function drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let flushInFlight = false;
    while (Date.now() < deadline) {
      if ((await totalLag(bus, drainGroups)) === 0) return true;
      if (!flushInFlight && drainFlushes.length > 0) {
        flushInFlight = true;
        void Promise.all(drainFlushes.map((flush) => flush()))
          .catch((err) => logger.warn({ err }, 'lake flush while draining failed'))
          .finally(() => {
            flushInFlight = false;
          });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  return {
    ...(runtime as Runtime),
    sourcesEnded,
    failed,
    drain,
    reloadRules,
    async stop() {
      clearInterval(lagTimer);
      health.stop();
      // Upstream first: intake, then each consumer after the one feeding it.
      const order = ['ingest', 'process', 'correlate', 'store', 'compactor', 'serve'];
      const sorted = [...stoppers].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
      const ingest = sorted[0]?.name === 'ingest' ? sorted.shift() : undefined;
      const rest = sorted;
      if (ingest) await ingest.stop();
      logger.info('intake stopped; draining');
      const drained = await drain(options.drainTimeoutMs ?? 8000);
      if (!drained)
        logger.warn('stopping before every group caught up; the rest is replayed at the next start');
      // The in-process bus acks a source's batches once consumed: their checkpoints move now.
      await settleIntake(drained ? 1000 : 0);
      for (const s of rest) {
        if (!s) continue;
        const t0 = performance.now();
        await s.stop();
        logger.info({ role: s.name, ms: Math.round(performance.now() - t0) }, 'role stopped');
      }
      await bus.close();
    },
  };
}

async function totalLag(
  bus: Bus,
  groups: ReadonlyArray<{ group: string; topics: string[] }>,
): Promise<number> {
  let lag = 0;
  for (const g of groups) {
    const ends = await bus.endOffsets(g.topics);
    const committed = new Map(
      (await bus.committedOffsets(g.group, g.topics)).map((c) => [`${c.topic}:${c.partition}`, c.offset]),
    );
    for (const e of ends) lag += Number(e.offset - (committed.get(`${e.topic}:${e.partition}`) ?? 0n));
  }
  return lag;
}

/**
 * Consumer lag per group and partition; on the memory bus the lag is also the fill of the bounded
 * per-partition queue (publishers wait when it is full), reported as buffer fill per group.
 */
async function updateLag(
  bus: Bus,
  groups: ReadonlyArray<{ group: string; topics: string[] }>,
  telemetry: Telemetry,
  queueCapacity: number | undefined,
): Promise<void> {
  for (const g of groups) {
    let worst = 0;
    const ends = await bus.endOffsets(g.topics);
    const committed = new Map(
      (await bus.committedOffsets(g.group, g.topics)).map((c) => [`${c.topic}:${c.partition}`, c.offset]),
    );
    for (const e of ends) {
      const lag = Number(e.offset - (committed.get(`${e.topic}:${e.partition}`) ?? 0n));
      telemetry.consumerLag.set({ topic: e.topic, partition: String(e.partition), group: g.group }, lag);
      if (lag > worst) worst = lag;
    }
    if (queueCapacity) telemetry.bufferFill.set({ stage: g.group }, Math.min(1, worst / queueCapacity));
  }
}
