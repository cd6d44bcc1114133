/**
 * What a failed produce left unsent, and where to send it now: the pure half of KafkaBus's
 * redelivery (kafka.ts `deliver`/`redeliver`).
 *
 * Why it exists: @platformatic/kafka 2.12.1 groups a send's records by partition leader once, and
 * every retry of a group goes to the current leader of its *first* record's partition. When the
 * leaders of a group's partitions part ways (two brokers down, then back), the group keeps
 * hitting NOT_LEADER_OR_FOLLOWER until its retries run out. So the bus lets the client fail fast,
 * reads from the failure which partitions are in the log, and sends the rest itself, grouped by
 * each partition's leader of the moment, under the producer id and sequence numbers of the first
 * attempt — so a batch that reached the log in an attempt whose answer was lost is recognised by
 * the broker as a duplicate instead of being written twice.
 */
import { positiveMurmur2 } from './partitioner.ts';

/** `topic:partition`, as the client keys its idempotence sequence numbers. */
export type PartitionKey = string;

export function partitionKey(topic: string, partition: number): PartitionKey {
  return `${topic}:${partition}`;
}

/** The part of a record the redelivery needs: where it goes. */
export interface Routed {
  topic: string;
  partition?: number;
  key?: Buffer | undefined;
}

interface PartitionResponse {
  index: number;
  errorCode: number;
}
interface ProduceResponse {
  responses?: Array<{ name: string; partitionResponses?: PartitionResponse[] }>;
}

/**
 * Produce error codes that mean "this batch is in the log": none, and DUPLICATE_SEQUENCE_NUMBER
 * (an older broker's answer to a batch it already holds; newer ones answer none).
 */
const IN_THE_LOG = new Set([0, 46]);

/** The outcome of each partition in a produce response (partition key → Kafka error code). */
export function partitionCodes(response: unknown): Map<PartitionKey, number> {
  const out = new Map<PartitionKey, number>();
  for (const topic of (response as ProduceResponse | undefined)?.responses ?? [])
    for (const p of topic.partitionResponses ?? []) out.set(partitionKey(topic.name, p.index), p.errorCode);
  return out;
}

export function inTheLog(code: number): boolean {
  return IN_THE_LOG.has(code);
}

/**
 * The partitions a failed `Producer.send` wrote: those of the destinations that succeeded
 * (`error.produced.offsets`) and every partition answered without error in any attempt of a
 * destination that failed (each attempt's ResponseError carries the whole response). Every
 * attempt of a destination carries the same records with the same sequence numbers, so one
 * partition answered "none" once is in the log. Anything not found here is sent again.
 */
export function writtenPartitions(error: unknown): Set<PartitionKey> {
  const written = new Set<PartitionKey>();
  walkProduceError(error, (key, code) => {
    if (inTheLog(code)) written.add(key);
  });
  return written;
}

/** Whether a failed send got any per-partition answer at all (else nothing reached a leader). */
export function answeredPartitions(error: unknown): Set<PartitionKey> {
  const answered = new Set<PartitionKey>();
  walkProduceError(error, (key) => answered.add(key));
  return answered;
}

/** Every (partition, error code) answer inside a send's error tree; the produced offsets as 0. */
function walkProduceError(error: unknown, visitCode: (key: PartitionKey, code: number) => void): void {
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const node = e as {
      produced?: { offsets?: Array<{ topic: string; partition: number }> };
      response?: unknown;
      errors?: unknown[];
      cause?: unknown;
    };
    for (const o of node.produced?.offsets ?? []) visitCode(partitionKey(o.topic, o.partition), 0);
    for (const [key, code] of partitionCodes(node.response)) visitCode(key, code);
    if (Array.isArray(node.errors)) for (const inner of node.errors) visit(inner);
    visit(node.cause);
  };
  visit(error);
}

/** The records whose partition is not among `written`, in their order. */
export function unsent<T extends Routed>(records: readonly T[], written: ReadonlySet<PartitionKey>): T[] {
  return records.filter((r) => !written.has(partitionKey(r.topic, r.partition ?? 0)));
}

/**
 * Records grouped by the broker that leads their partition now; records whose partition has no
 * leader (or whose topic is not in the metadata yet) wait for the next round.
 */
export function groupByLeader<T extends Routed>(
  records: readonly T[],
  leaderOf: (topic: string, partition: number) => number | undefined,
): { byLeader: Map<number, T[]>; leaderless: T[] } {
  const byLeader = new Map<number, T[]>();
  const leaderless: T[] = [];
  for (const r of records) {
    const leader = leaderOf(r.topic, r.partition ?? 0);
    if (leader === undefined || leader < 0) {
      leaderless.push(r);
      continue;
    }
    const group = byLeader.get(leader);
    if (group === undefined) byLeader.set(leader, [r]);
    else group.push(r);
  }
  return { byLeader, leaderless };
}

/**
 * Gives every record its partition before the first send, so a record keeps it through every
 * resend: keyed records where Java's partitioner puts them (murmur2 of the key modulo the
 * partition count), keyless ones round-robin (`roundRobin` is the counter, advanced here).
 * Returns false when a topic's partition count is not known yet.
 */
export function assignPartitions(
  records: readonly Routed[],
  partitionsOf: (topic: string) => number | undefined,
  roundRobin: { next: number },
): boolean {
  for (const r of records) {
    if (typeof r.partition === 'number') continue;
    const count = partitionsOf(r.topic);
    if (count === undefined || count <= 0) return false;
    const n = r.key === undefined || r.key === null ? roundRobin.next++ & 0x7fffffff : positiveMurmur2(r.key);
    r.partition = n % count;
  }
  return true;
}

/**
 * The first sequence number of each partition's batch in a request, taken from (and advancing)
 * `next` — the same bookkeeping as the client's own (one batch per partition per request; the
 * sequence grows by the batch's record count), so a resend carries the numbers of the first try.
 */
export function takeSequences(
  records: readonly Routed[],
  next: Map<PartitionKey, number>,
): Map<PartitionKey, number> {
  const counts = new Map<PartitionKey, number>();
  for (const r of records) {
    const key = partitionKey(r.topic, r.partition ?? 0);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const first = new Map<PartitionKey, number>();
  for (const [key, count] of counts) {
    const base = next.get(key) ?? 0;
    first.set(key, base);
    next.set(key, base + count);
  }
  return first;
}

/** `raw.zeek: 0, 3; alerts: 1` — the partitions records go to, for messages. */
export function describePartitions(records: readonly Routed[]): string {
  const byTopic = new Map<string, Set<number>>();
  for (const r of records) {
    const set = byTopic.get(r.topic) ?? new Set<number>();
    set.add(r.partition ?? 0);
    byTopic.set(r.topic, set);
  }
  return [...byTopic]
    .map(([topic, parts]) => `${topic}: ${[...parts].sort((a, b) => a - b).join(', ')}`)
    .join('; ');
}
