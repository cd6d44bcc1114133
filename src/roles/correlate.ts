import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, ConsumedBatch, ConsumedRecord, Subscription, TopicPartition } from '../core/bus.ts';
import type { ComponentContext } from '../core/component.ts';
import { deferred } from '../core/deferred.ts';
import type { Alert } from '../detect/alert.ts';
import type { CorrelationOutput, CorrelationState } from '../detect/detector.ts';
import { isMatchMessage, type MatchMessage } from '../detect/matches.ts';
import type { AlertOutput } from '../sinks/alert-output.ts';
import { decodeMatches, matchRecord } from './codec.ts';

/**
 * The correlate role: the matches topic (match messages re-keyed by rule + group key by the process
 * role) → correlation windows, suppression, chains → alert outputs (the alerts topic, console,
 * webhook). Each member owns the groups of its partitions, so a consumer group of several members
 * shares the state without splitting a window. A consumed batch is committed once its alerts were
 * written and the chain hits it could not decide locally were re-published to the matches topic.
 * Windows are event-time, with one clock per origin partition (watermark.ts); an idle timer
 * advances the clock with wall time so a quiet stream still closes its windows. Alert ids are
 * deterministic, so a replay after a crash re-raises the same ids and the store's upsert keeps one.
 *
 * Rebuild on assignment (ARCHITECTURE.md "On reassignment a worker rebuilds its windows"): a
 * matches partition this member owns but has not read up to its group's committed offset (a new
 * assignment, a takeover after a crash, a restart) is replayed before that offset, read outside
 * the group (Bus.readRange), into the state without emitting (rebuildStart below: how far back is
 * decided by the event clocks in the messages). This runs as soon as the partition is seen
 * assigned — before its next batch, and on the idle tick while it stays silent, so a window
 * decided only at close (an upper-bound or range condition, value_avg) is closed by its new owner
 * even when no record follows. A first record past where the state has read (another member
 * committed meanwhile) triggers the replay again; a match delivered twice counts once.
 * Batches, rebuilds and idle advances take turns (one at a time), so a tick never closes a window
 * that a rebuild is still filling.
 */
export interface CorrelateRoleOptions {
  bus: Bus;
  group: string;
  /** The matches topic (consumed, and where chain hits are re-published). */
  topic: string;
  state: CorrelationState;
  /** Input partitions of the process role (`topic:partition`): their clocks hold the watermark. */
  origins?: readonly string[];
  output: AlertOutput;
  /** Every alert raised or updated (the embedded mode's live feed). */
  onAlerts?: (alerts: Alert[]) => void;
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  from?: 'earliest' | 'latest';
  idleAdvanceMs?: number;
  /** Records replayed at most per partition by a rebuild (default 200,000). */
  maxRebuildRecords?: number;
}

export interface CorrelateRole {
  run(): Promise<void>;
  /** Resolves once the consumer group is subscribed. */
  readonly ready: Promise<void>;
  /** The matches partitions this member owns now (each group's state lives with one). */
  assignments(): TopicPartition[];
  /** Swaps the correlation state (admin rule reload): open windows start again empty. */
  setState(state: CorrelationState): void;
  stop(): Promise<void>;
}

/** stop() waits this long at most for a rebuild or an idle tick in progress. */
const STOP_TURN_WAIT_MS = 2000;
/** Records read per step while walking back from the committed offset. */
const REBUILD_STEP = 2000n;
const DEFAULT_MAX_REBUILD_RECORDS = 200_000;
/** Batches correlated and not yet committed, at most (their alerts being written, their commits). */
const MAX_UNCOMMITTED_BATCHES = 16;
/** How long the matches consumer waits to fill a batch once it has a record. */
const MATCH_BATCH_WAIT_MS = 5;

function decodeMessages(records: readonly ConsumedRecord[]): MatchMessage[] {
  const out: MatchMessage[] = [];
  for (const record of records) {
    let messages: unknown[];
    try {
      messages = decodeMatches(record);
    } catch {
      continue;
    }
    for (const message of messages) if (isMatchMessage(message)) out.push(message);
  }
  return out;
}

/**
 * Where a rebuild of a matches partition up to `upTo` starts: walking back from `upTo`, each origin's
 * newest clock reading sets the horizon `min over origins(newest clock) − horizonMs` (the oldest
 * event time an open window or suppression period can still hold; taking the minimum keeps it
 * right when one origin lags behind the others), and the walk stops once every origin seen has a
 * message older than the horizon: an origin's clock only grows along the partition, so all its
 * earlier messages are older still. The wall-clock record timestamps are not used: a backlog is
 * processed slower than real time. Derived chain hits carry no clock and do not steer the walk.
 */
export async function rebuildStart(
  bus: Bus,
  topic: string,
  partition: number,
  upTo: bigint,
  horizonMs: number,
  maxRecords: number,
): Promise<bigint> {
  const newest = new Map<string, number>();
  const oldest = new Map<string, number>();
  let from = upTo;
  const limit = upTo - BigInt(maxRecords) > 0n ? upTo - BigInt(maxRecords) : 0n;
  while (from > limit) {
    const start = from - REBUILD_STEP > limit ? from - REBUILD_STEP : limit;
    const records: ConsumedRecord[] = [];
    for await (const batch of bus.readRange(topic, partition, start, from)) records.push(...batch);
    if (records.length === 0) break; // nothing retained before this
    const messages = decodeMessages(records);
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m.type === 'correlation' && m.derived) continue;
      const clock = m.clock ?? (m.type === 'event' ? m.event_time : m.match.event_time);
      if (!newest.has(m.origin)) newest.set(m.origin, clock);
      const seen = oldest.get(m.origin);
      if (seen === undefined || clock < seen) oldest.set(m.origin, clock);
    }
    from = records[0].offset < start ? records[0].offset : start;
    let horizon = Number.POSITIVE_INFINITY;
    for (const t of newest.values()) if (t - horizonMs < horizon) horizon = t - horizonMs;
    let done = newest.size > 0;
    for (const t of oldest.values()) if (t >= horizon) done = false;
    if (done) break;
  }
  return from;
}

export function createCorrelateRole(options: CorrelateRoleOptions): CorrelateRole {
  const logger = options.ctx.logger.child({ component: 'correlate' });
  let subscription: Subscription | undefined;
  let stopping = false;
  let writing: Promise<void> = Promise.resolve();
  let state = options.state;

  /**
   * Alerts go out in order, one write at a time, whether from a batch or the idle timer; chain hits
   * for parents owned elsewhere are re-published first. What is decided while a write is in flight
   * waits for it and then leaves in ONE write: batches are decided as they arrive, and one write
   * per batch would queue a produce round trip per batch behind each other.
   */
  let next: { alerts: Alert[]; forward: MatchMessage[]; written: Promise<void> } | null = null;
  function emit({ alerts, forward }: CorrelationOutput): Promise<void> {
    if (alerts.length === 0 && forward.length === 0) return writing;
    if (next === null) {
      const group = { alerts: [] as Alert[], forward: [] as MatchMessage[], written: writing };
      group.written = writing = writing.then(async () => {
        if (next === group) next = null; // what is decided from now on goes in the next write
        if (group.forward.length > 0)
          await options.bus.publish(options.topic, group.forward.map(matchRecord));
        if (group.alerts.length === 0) return;
        await options.output.write(group.alerts);
        options.onAlerts?.(group.alerts);
      });
      next = group;
    }
    for (const a of alerts) next.alerts.push(a);
    for (const m of forward) next.forward.push(m);
    return next.written;
  }

  const subscribed = deferred();
  const maxRebuildRecords = options.maxRebuildRecords ?? DEFAULT_MAX_REBUILD_RECORDS;
  // Per owned matches partition: the next offset this member's state has read up to.
  const readUpTo = new Map<number, bigint>();

  /** Replays [start, upTo) of a partition into the state: windows rebuilt, nothing emitted. */
  async function rebuild(partition: number, upTo: bigint): Promise<void> {
    if (upTo <= 0n) return;
    const started = Date.now();
    const target = state;
    const from = await rebuildStart(
      options.bus,
      options.topic,
      partition,
      upTo,
      target.rebuildHorizonMs(),
      maxRebuildRecords,
    );
    let replayed = 0;
    for await (const records of options.bus.readRange(options.topic, partition, from, upTo)) {
      const messages = decodeMessages(records);
      replayed += messages.length;
      target.rebuild(messages, String(partition));
    }
    logger.info(
      { partition, from: String(from), upTo: String(upTo), replayed, ms: Date.now() - started },
      'correlation windows rebuilt from the matches partition',
    );
  }

  function rebuildLogged(partition: number, upTo: bigint): Promise<void> {
    return rebuild(partition, upTo).catch((err) =>
      logger.error({ err, partition }, 'rebuilding correlation windows failed; going on with what there is'),
    );
  }

  /**
   * Owned partitions this member has not read yet are rebuilt up to the group's committed offset
   * (nothing committed: nothing to rebuild); partitions no longer owned are forgotten (their state
   * stays: a rebuild on regaining them overlaps it, and the correlators count a match delivered
   * twice once). When the committed offsets cannot be read (broker away), the partitions stay
   * unknown and the next batch or tick tries again.
   */
  async function rebuildAssigned(sub: Subscription): Promise<void> {
    const owned = new Set(sub.assignments().map((a) => a.partition));
    for (const p of readUpTo.keys()) if (!owned.has(p)) readUpTo.delete(p);
    const fresh = [...owned].filter((p) => !readUpTo.has(p)).sort((a, b) => a - b);
    if (fresh.length === 0) return;
    let committed: Map<number, bigint>;
    try {
      const offsets = await options.bus.committedOffsets(options.group, [options.topic]);
      committed = new Map(offsets.map((o) => [o.partition, o.offset]));
    } catch (err) {
      logger.warn({ err }, 'reading committed offsets for a rebuild failed; retrying on the next batch');
      return;
    }
    for (const partition of fresh) {
      const upTo = committed.get(partition) ?? 0n;
      await rebuildLogged(partition, upTo);
      readUpTo.set(partition, upTo);
    }
  }

  /**
   * A partition whose first record in this batch is past where this member's state has read (read
   * by another member meanwhile, or unknown because the committed offsets could not be read) is
   * rebuilt up to that record first.
   */
  async function rebuildNewPartitions(sub: Subscription, records: readonly ConsumedRecord[]): Promise<void> {
    await rebuildAssigned(sub);
    const firsts = new Map<number, bigint>();
    for (const r of records) if (!firsts.has(r.partition)) firsts.set(r.partition, r.offset);
    for (const [partition, offset] of firsts) {
      const known = readUpTo.get(partition);
      if (known === undefined || offset > known) await rebuildLogged(partition, offset);
    }
    for (const r of records) readUpTo.set(r.partition, r.offset + 1n);
  }

  // Batches, rebuilds and idle ticks run one at a time (see the comment at the top).
  let turn: Promise<unknown> = Promise.resolve();
  function inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = turn.then(work, work);
    turn = next.catch(() => {});
    return next;
  }

  /**
   * Event clocks are kept per origin and matches partition (CorrelationState.correlateMatches): the
   * channels this member reads are its origins × the partitions it owns, declared again whenever
   * the assignment changes so a channel whose first message comes later holds the clock.
   */
  let ownedKey = '';
  function assignChannels(target: CorrelationState, force: boolean): void {
    if (!options.origins || !subscription) return;
    const owned = subscription
      .assignments()
      .map((a) => a.partition)
      .sort((a, b) => a - b);
    const key = owned.join(',');
    if (key === ownedKey && !force) return;
    ownedKey = key;
    const origins = options.origins;
    target.assignPartitions(owned.flatMap((p) => origins.map((o) => `${o}@${p}`)));
  }

  /** One consumed batch: rebuilds first, then the matches per partition, alerts out, commit. */
  async function correlateBatch(sub: Subscription, batch: ConsumedBatch): Promise<void> {
    assignChannels(state, false);
    await rebuildNewPartitions(sub, batch.records);
    const byPartition = new Map<number, MatchMessage[]>();
    for (const record of batch.records) {
      let messages: unknown[];
      try {
        messages = decodeMatches(record);
      } catch {
        messages = [undefined];
      }
      for (const message of messages) {
        if (!isMatchMessage(message)) {
          options.ctx.telemetry.rejects.inc({ source: 'bus', reason: 'correlate_bad_record' });
          continue;
        }
        const list = byPartition.get(record.partition);
        if (list) list.push(message);
        else byPartition.set(record.partition, [message]);
      }
    }
    let written: Promise<void> = writing;
    for (const [partition, messages] of byPartition) {
      written = emit(state.correlateMatches(messages, String(partition)));
    }
    commitAfter(sub, batch, written);
  }

  /**
   * A batch is committed once its alerts are written and every earlier batch is committed, but
   * the next batch is correlated at once: waiting for the alert write and the commit round trips
   * before reading on added both to the detection latency of every match behind them. Batches whose
   * writes completed while a commit was in flight are committed together (per partition, the last
   * of them): one commit per round trip, not one per batch. At most MAX_UNCOMMITTED_BATCHES wait;
   * the first failure stops the role (nothing after it is committed, so it is consumed again).
   */
  const waiting: Array<{ batch: ConsumedBatch; written: boolean }> = [];
  let committing: Promise<void> | null = null;
  let failure: Error | null = null;
  function fail(sub: Subscription, err: Error): void {
    if (failure) return;
    failure = err;
    // Ends the iteration: the role fails, what is uncommitted is consumed again.
    void sub.close().catch(() => {});
  }
  function commitAfter(sub: Subscription, batch: ConsumedBatch, written: Promise<void>): void {
    const entry = { batch, written: false };
    waiting.push(entry);
    written.then(
      () => {
        entry.written = true;
        kick(sub);
      },
      (err: Error) => fail(sub, err),
    );
  }
  /** Starts committing the written prefix unless a commit loop runs (it picks the new ones up). */
  function kick(sub: Subscription): void {
    if (committing !== null || failure || waiting.length === 0 || !waiting[0].written) return;
    committing = commitWritten(sub).finally(() => {
      committing = null;
      kick(sub); // written while the last commit was being sent
    });
  }
  /** Commits the written prefix of `waiting`, in order, until none is left. */
  async function commitWritten(sub: Subscription): Promise<void> {
    try {
      while (!failure && waiting.length > 0 && waiting[0].written) {
        let n = 0;
        while (n < waiting.length && waiting[n].written) n++;
        // Each partition's offset from the last batch that holds it; earlier ones add nothing.
        const lastOf = new Map<string, ConsumedBatch>();
        for (let i = 0; i < n; i++) {
          const { batch } = waiting[i];
          let previous: ConsumedRecord | undefined;
          for (const r of batch.records) {
            if (previous?.partition === r.partition && previous.topic === r.topic) continue;
            lastOf.set(`${r.topic}\u0000${r.partition}`, batch);
            previous = r;
          }
        }
        const toCommit = new Set(lastOf.values());
        for (let i = 0; i < n; i++) if (toCommit.has(waiting[i].batch)) await sub.commit(waiting[i].batch);
        waiting.splice(0, n);
      }
    } catch (err) {
      fail(sub, err as Error);
    }
  }
  /** Resolves once the commits in flight or due are done (or the role failed). */
  async function commitsSettled(sub: Subscription): Promise<void> {
    kick(sub);
    while (committing !== null) await committing;
  }

  return {
    ready: subscribed.promise,
    assignments() {
      return subscription?.assignments() ?? [];
    },
    async run() {
      try {
        subscription = await options.bus.subscribe({
          group: options.group,
          topics: [options.topic],
          from: options.from ?? 'earliest',
          // Matches are few and each waits for its decision: hand over what has arrived instead
          // of waiting up to the bus's default (100 ms on Kafka) to fill a batch.
          maxWaitMs: MATCH_BATCH_WAIT_MS,
        });
        subscribed.resolve();
      } catch (err) {
        subscribed.reject(err);
        throw err;
      }
      const sub = subscription;
      let ticking = false;
      const idle = setInterval(() => {
        if (ticking) return; // the last tick still waits for its turn
        ticking = true;
        inTurn(async () => {
          assignChannels(state, false);
          await rebuildAssigned(sub);
          await emit(state.advance(Date.now()));
        })
          .catch((err) => logger.error({ err }, 'writing alerts of closed windows failed'))
          .finally(() => {
            ticking = false;
          });
      }, options.idleAdvanceMs ?? 5000);
      try {
        for await (const batch of sub) {
          if (failure) break;
          await inTurn(() => correlateBatch(sub, batch));
          while (waiting.length >= MAX_UNCOMMITTED_BATCHES && !failure && !stopping)
            await (committing ?? sleep(1, undefined, { ref: false }));
          if (stopping) break;
        }
        await commitsSettled(sub);
      } finally {
        clearInterval(idle);
      }
      if (failure) throw failure;
    },
    setState(next) {
      assignChannels(next, true);
      state = next;
    },
    async stop() {
      stopping = true;
      await subscription?.close();
      // A rebuild or tick in progress finishes first, unless it waits on an unreachable broker.
      await Promise.race([turn, sleep(STOP_TURN_WAIT_MS, undefined, { ref: false })]);
      // A failed write was reported by run(); stopping still stops the output.
      await writing.catch(() => {});
      await options.output.stop();
    },
  };
}
