/**
 * Reads a range of one Kafka partition outside any consumer group: the Bus's `readRange`
 * (src/core/bus.ts), used by a correlate member to replay the matches before its committed offset
 * and rebuild its windows. @platformatic/kafka's message stream always joins a group and follows
 * its assignment, so this uses the client's plain Fetch (`Consumer.fetch` to the partition leader)
 * with an explicit offset: no JoinGroup, no commit, the group's members are not disturbed.
 */
import { Consumer } from '@platformatic/kafka';
import type { ConsumedRecord } from '../core/bus.ts';
import { KafkaFailedError, KafkaUnreachableError } from '../core/errors.ts';
import { clientOptions, type KafkaConfig } from './kafka-client-options.ts';

type Buf = Buffer;

/** Bytes asked for per fetch; a record batch larger than this is still returned whole (KIP-74). */
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
/** Record batches with this attribute bit are transaction markers, not records. */
const IS_CONTROL = 0b10_0000;

function headersOf(list: Array<[Buf | null, Buf | null]>): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of list) if (k) out[k.toString('utf8')] = v?.toString('utf8') ?? '';
  return out;
}

export async function* readKafkaRange(
  config: KafkaConfig,
  topic: string,
  partition: number,
  from: bigint,
  to: bigint,
): AsyncIterable<ConsumedRecord[]> {
  if (from >= to) return;
  // A Consumer needs a group id to be constructed; Fetch does not use it (nothing joins).
  const consumer = new Consumer<Buf, Buf, Buf, Buf>({
    ...clientOptions(config, 'reader'),
    groupId: `socstream-reader-${process.pid}`,
    autocommit: false,
  });
  try {
    const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const info = metadata.topics.get(topic);
    const leader = info?.partitions[partition]?.leader;
    if (!info || leader === undefined || leader < 0) {
      throw new KafkaUnreachableError(`readRange: ${topic}:${partition} has no leader`);
    }
    const starts = await consumer.listOffsets({
      topics: [topic],
      partitions: { [topic]: [partition] },
      timestamp: -2n, // EARLIEST_TIMESTAMP: the log start offset
    });
    const earliest = starts.get(topic)?.[partition];
    let next = earliest !== undefined && earliest > from ? earliest : from;
    while (next < to) {
      const response = await consumer.fetch({
        node: leader,
        maxWaitTime: 100,
        topics: [
          {
            topicId: info.id,
            partitions: [
              {
                partition,
                fetchOffset: next,
                partitionMaxBytes: FETCH_MAX_BYTES,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              },
            ],
          },
        ],
      });
      const out: ConsumedRecord[] = [];
      let advanced = next;
      for (const t of response.responses) {
        for (const p of t.partitions) {
          if (p.partitionIndex !== partition) continue;
          if (p.errorCode !== 0)
            throw new KafkaFailedError(`readRange: ${topic}:${partition} fetch error ${p.errorCode}`);
          for (const batch of p.records ?? []) {
            const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
            if (last + 1n > advanced) advanced = last + 1n;
            if (batch.attributes & IS_CONTROL) continue;
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < next || offset >= to) continue;
              out.push({
                topic,
                partition,
                offset,
                key: r.key === null ? null : r.key.toString('utf8'),
                value: r.value ?? Buffer.alloc(0),
                headers: headersOf(r.headers),
                timestamp: Number(batch.firstTimestamp + r.timestampDelta),
              });
            }
          }
          // Nothing more below the high-water mark: the range ends early (a truncated log).
          if (advanced === next && p.highWatermark <= next) return;
        }
      }
      if (advanced === next) return;
      next = advanced;
      if (out.length > 0) yield out;
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
}
