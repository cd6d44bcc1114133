/**
 * The regrouping half of KafkaBus's redelivery (src/bus/kafka-redelivery.ts): what a failed send
 * wrote, what is left, where it goes now. The error trees are built from @platformatic/kafka
 * 2.12.1's own error classes in the shapes its Producer#performSend reports (a MultipleErrors per
 * send with `produced`, one per destination "produce failed N times", a ResponseError per attempt
 * carrying the whole Produce response); the records are real sshd log lines.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { MultipleErrors, ResponseError } from '@platformatic/kafka';
import fc from 'fast-check';
import {
  answeredPartitions,
  assignPartitions,
  describePartitions,
  groupByLeader,
  partitionKey,
  type Routed,
  takeSequences,
  unsent,
  writtenPartitions,
} from '../../src/bus/kafka-redelivery.ts';
import { positiveMurmur2 } from '../../src/bus/partitioner.ts';
import { SHARED_DATA } from '../helpers/shared-data.ts';

const LINES = readFileSync(
  join(SHARED_DATA, 'auth/crowdsec-hub/sshd-invalid-bf__sshd-invalid-bf.log'),
  'utf8',
)
  .split('\n')
  .filter(Boolean);

interface Rec extends Routed {
  value: Buffer;
}

/** Real sshd lines keyed by their sshd process (and round through the file), as a raw topic carries them. */
function records(topic: string, n: number): Rec[] {
  return Array.from({ length: n }, (_, i) => {
    const line = LINES[i % LINES.length];
    const key = `${line.split(' ')[4]}#${Math.floor(i / LINES.length)}`;
    return { topic, key: Buffer.from(key), value: Buffer.from(line) };
  });
}

const NONE = 0;
const NOT_LEADER_OR_FOLLOWER = 6;
const REQUEST_TIMED_OUT = 7;
const DUPLICATE_SEQUENCE_NUMBER = 46;

/** A Produce(v11) answer as the client parses it: one ResponseError when any partition failed. */
function attempt(topic: string, codes: Array<[partition: number, code: number]>): Error {
  const response = {
    responses: [
      {
        name: topic,
        partitionResponses: codes.map(([index, errorCode]) => ({ index, errorCode, baseOffset: 0n })),
      },
    ],
    throttleTimeMs: 0,
  };
  const failed = codes
    .map(([, code], j): [string, [number, null]] => [`/responses/0/partition_responses/${j}`, [code, null]])
    .filter(([, [code]]) => code !== NONE);
  return new ResponseError(0, 11, Object.fromEntries(failed), response);
}

it('partitions answered "none" in any attempt of a failed destination, or by a destination that succeeded, are written', () => {
  // Destination of node 1: raw partitions 0, 1, 2 grouped while node 1 led them all. Attempt 1: 0
  // written, 1 and 2 moved away; attempt 2 (to the leader of partition 0): 0 answered as a
  // duplicate, 1 and 2 still not led there; attempt 3: 2 timed out waiting for its replicas.
  const failedDestination = new MultipleErrors('produce failed 3 times.', [
    attempt('raw', [
      [0, NONE],
      [1, NOT_LEADER_OR_FOLLOWER],
      [2, NOT_LEADER_OR_FOLLOWER],
    ]),
    attempt('raw', [
      [0, DUPLICATE_SEQUENCE_NUMBER],
      [1, NOT_LEADER_OR_FOLLOWER],
      [2, NOT_LEADER_OR_FOLLOWER],
    ]),
    attempt('raw', [
      [0, NONE],
      [1, NOT_LEADER_OR_FOLLOWER],
      [2, REQUEST_TIMED_OUT],
    ]),
  ]);
  const sendError = Object.assign(new MultipleErrors('Producing messages failed.', [failedDestination]), {
    produced: { offsets: [{ topic: 'matches', partition: 4, offset: 17n }] },
  });
  assert.deepEqual([...writtenPartitions(sendError)].sort(), ['matches:4', 'raw:0']);
  assert.deepEqual([...answeredPartitions(sendError)].sort(), ['matches:4', 'raw:0', 'raw:1', 'raw:2']);
  // A connection error carries no answer: nothing written, nothing answered.
  const refused = new MultipleErrors('Producing messages failed.', [
    new Error('connect ECONNREFUSED 127.0.0.1:19093'),
  ]);
  assert.equal(writtenPartitions(refused).size, 0);
  assert.equal(answeredPartitions(refused).size, 0);
  assert.equal(writtenPartitions(new Error('plain')).size, 0);
});

it('what is left of a request: the records of the unwritten partitions, in publish order, none of a written one', () => {
  const request = records('raw', 40);
  assert.equal(
    assignPartitions(request, () => 6, { next: 0 }),
    true,
  );
  const written = new Set([partitionKey('raw', request[0].partition as number)]);
  const left = unsent(request, written);
  assert.ok(left.length > 0 && left.length < request.length, describePartitions(left));
  assert.ok(left.every((r) => !written.has(partitionKey(r.topic, r.partition as number))));
  assert.deepEqual(
    left,
    request.filter((r) => r.partition !== request[0].partition),
    'the same objects, in the same order',
  );
});

it('partitions are fixed before the first send: keys where Java puts them, keyless round-robin, unknown counts wait', () => {
  const keyed = records('raw', 12);
  assert.equal(
    assignPartitions(keyed, () => 6, { next: 0 }),
    true,
  );
  for (const r of keyed) assert.equal(r.partition, positiveMurmur2(r.key as Buffer) % 6);
  const keyless: Routed[] = Array.from({ length: 7 }, () => ({ topic: 'alerts' }));
  const rr = { next: 0 };
  assert.equal(
    assignPartitions(keyless, () => 3, rr),
    true,
  );
  assert.deepEqual(
    keyless.map((r) => r.partition),
    [0, 1, 2, 0, 1, 2, 0],
  );
  assert.equal(rr.next, 7);
  // A re-send keeps them: assigned partitions are not touched again.
  assert.equal(
    assignPartitions(keyless, () => 5, rr),
    true,
  );
  assert.deepEqual(
    keyless.map((r) => r.partition),
    [0, 1, 2, 0, 1, 2, 0],
  );
  assert.equal(
    assignPartitions([{ topic: 'new' }], () => undefined, rr),
    false,
  );
});

it('sequence numbers: the first of each partition batch, advanced by the batch size, as the client counts them', () => {
  const next = new Map<string, number>();
  const first = [
    { topic: 'raw', partition: 0 },
    { topic: 'raw', partition: 1 },
    { topic: 'raw', partition: 0 },
  ];
  assert.deepEqual(
    takeSequences(first, next),
    new Map([
      ['raw:0', 0],
      ['raw:1', 0],
    ]),
  );
  assert.deepEqual(takeSequences([{ topic: 'raw', partition: 0 }], next), new Map([['raw:0', 2]]));
  assert.deepEqual(
    next,
    new Map([
      ['raw:0', 3],
      ['raw:1', 1],
    ]),
  );
});

it('leaders moved twice: every unwritten record goes to its partition leader of now, none twice, none of a written partition', () => {
  const nodes = fc.constantFrom(1, 2, 3);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 120 }),
      fc.array(nodes, { minLength: 6, maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      fc.array(fc.constantFrom(-1, 1, 2, 3), { minLength: 6, maxLength: 6 }),
      (n, before, writtenFlags, now) => {
        const request = records('raw', n);
        assignPartitions(request, () => 6, { next: 0 });
        // Grouped by the leaders of the first send (what the client does once).
        const firstGroups = groupByLeader(request, (_t, p) => before[p]);
        assert.equal(
          [...firstGroups.byLeader.values()].reduce((k, g) => k + g.length, 0),
          n,
        );
        const written = new Set(writtenFlags.flatMap((w, p) => (w ? [partitionKey('raw', p)] : [])));
        const left = unsent(request, written);
        const { byLeader, leaderless } = groupByLeader(left, (_t, p) => now[p]);
        const regrouped = [...byLeader.values()].flat();
        // Nothing written goes again; nothing unwritten is dropped; none goes twice.
        assert.equal(regrouped.length + leaderless.length, left.length);
        assert.equal(new Set([...regrouped, ...leaderless]).size, left.length);
        for (const r of [...regrouped, ...leaderless])
          assert.equal(writtenFlags[r.partition as number], false);
        for (const r of request)
          if (!writtenFlags[r.partition as number])
            assert.ok(regrouped.includes(r) || leaderless.includes(r));
        // Each group holds only partitions its broker leads now; per partition the publish order holds.
        for (const [leader, group] of byLeader) {
          assert.ok(group.every((r) => now[r.partition as number] === leader));
          const order = group.map((r) => request.indexOf(r));
          assert.deepEqual(
            order,
            [...order].sort((a, b) => a - b),
          );
        }
        assert.ok(leaderless.every((r) => now[r.partition as number] === -1));
      },
    ),
  );
});
