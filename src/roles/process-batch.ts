import type { ConsumedRecord } from '../core/bus.ts';
import type { Envelope, InputRecord, Reject } from '../core/envelope.ts';
import type { EventMatcher } from '../detect/detector.ts';
import type { MatchMessage } from '../detect/matches.ts';
import { inputFromRaw } from './codec.ts';

/**
 * The process role's CPU work on one consumed batch: parse → normalize → enrich → single-event
 * match. The same function runs on the role's own thread (`process.workers: 0`) and in its worker
 * thread (process-worker-thread.ts), so both give the same envelopes, ids and matches.
 */

/** Parse → normalize → enrich of one record (src/pipeline/processor.ts). */
export interface RecordProcessor {
  process(
    record: InputRecord,
    stream: string,
    out: { envelopes: Envelope[]; rejects: Reject[]; skipped: number },
  ): void;
}

/** What one consumed batch gave. */
export interface Processed {
  envelopes: Envelope[];
  rejects: Reject[];
  matches: MatchMessage[];
}

/** The stream a consumed raw record belongs to: its topic-partition and key (a file, a peer). */
export function streamOf(topic: string, partition: number, key: string | null): string {
  return `${topic}\u0000${partition}\u0000${key ?? ''}`;
}

/** Parse → normalize → enrich → match, for one consumed batch. */
export function processRecords(
  records: readonly ConsumedRecord[],
  formatOf: ReadonlyMap<string, string | undefined>,
  processor: RecordProcessor,
  matcher: EventMatcher | undefined,
): Processed {
  const out = { envelopes: [] as Envelope[], rejects: [] as Reject[], skipped: 0 };
  const matches: MatchMessage[] = [];
  /** The input offset of each envelope: the seq of its matches (a replay counts once). */
  const offsets: number[] = [];
  // Envelopes are matched per run of records from one input partition: each message carries
  // its origin partition and that partition's event clock (per-partition watermarks).
  let runStart = 0;
  let runOrigin = '';
  let runTopic = '';
  let runPartition = -1;
  for (const record of records) {
    if (matcher && (record.partition !== runPartition || record.topic !== runTopic)) {
      matchRun(runStart, runOrigin);
      runStart = out.envelopes.length;
      runTopic = record.topic;
      runPartition = record.partition;
      runOrigin = `${record.topic}:${record.partition}`;
    }
    const input = inputFromRaw(record, formatOf.get(record.topic));
    processor.process(input, streamOf(record.topic, record.partition, record.key), out);
    if (matcher) {
      const offset = Number(record.offset);
      while (offsets.length < out.envelopes.length) offsets.push(offset);
    }
  }
  matchRun(runStart, runOrigin);
  return { envelopes: out.envelopes, rejects: out.rejects, matches };

  function matchRun(start: number, origin: string): void {
    if (matcher && out.envelopes.length > start)
      matcher.matchEvents(out.envelopes.slice(start), origin, matches, offsets.slice(start));
  }
}

/** Events per (source, log type), in runs of equal labels: a batch is mostly one log type. */
export function eventCounts(envelopes: readonly Envelope[]): Array<[string, string, number]> {
  const counts: Array<[string, string, number]> = [];
  let i = 0;
  while (i < envelopes.length) {
    const { source, log_type } = envelopes[i];
    let j = i + 1;
    while (j < envelopes.length && envelopes[j].log_type === log_type && envelopes[j].source === source) j++;
    counts.push([source, log_type, j - i]);
    i = j;
  }
  return counts;
}
