import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ClusterMetadata,
  type ExtendedGroupProtocolSubscription,
  roundRobinAssigner,
} from '@platformatic/kafka';
import { subscribedRoundRobin } from '../../src/bus/kafka-assigner.ts';

function metadataOf(topics: Record<string, number>): ClusterMetadata {
  return {
    topics: new Map(Object.entries(topics).map(([name, partitionsCount]) => [name, { partitionsCount }])),
  } as unknown as ClusterMetadata;
}

function membersOf(subscriptions: Record<string, string[]>): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(
    Object.entries(subscriptions).map(([memberId, topics]) => [
      memberId,
      { memberId, topics, version: 0, metadata: null } as unknown as ExtendedGroupProtocolSubscription,
    ]),
  );
}

/** memberId → "topic/partition" list, for comparisons. */
function flat(result: ReturnType<typeof subscribedRoundRobin>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of result)
    out[m.memberId] = [...m.assignments.values()].flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`));
  return out;
}

describe('subscribedRoundRobin (the group leader’s assignment)', () => {
  it('one subscription shared by every member: the same layout as the client’s round robin', () => {
    const members = membersOf({
      a: ['raw.x', 'raw.y', 'raw.z'],
      b: ['raw.x', 'raw.y', 'raw.z'],
      c: ['raw.x', 'raw.y', 'raw.z'],
    });
    const topics = new Set(['raw.x', 'raw.y', 'raw.z']);
    const metadata = metadataOf({ 'raw.x': 6, 'raw.y': 6, 'raw.z': 4 });
    assert.deepEqual(
      flat(subscribedRoundRobin('a', members, topics, metadata)),
      flat(roundRobinAssigner('a', members, topics, metadata)),
    );
  });

  it('members of other subscriptions: each topic only to its subscribers, every partition owned once', () => {
    // The leader (a) subscribes to x only; b and c to y; d to both.
    const members = membersOf({ a: ['x'], b: ['y'], c: ['y'], d: ['x', 'y'] });
    const result = flat(subscribedRoundRobin('a', members, new Set(['x']), metadataOf({ x: 4, y: 3 })));
    assert.deepEqual(result, {
      a: ['x/0', 'x/2'],
      b: ['y/0'],
      c: ['y/1'],
      d: ['x/1', 'x/3', 'y/2'],
    });
    // The client's own round robin deals the leader's topic to everyone and leaves y unowned.
    const theirs = flat(roundRobinAssigner('a', members, new Set(['x']), metadataOf({ x: 4, y: 3 })));
    assert.deepEqual(theirs.b, ['x/1']);
    assert.equal(
      Object.values(theirs)
        .flat()
        .filter((p) => p.startsWith('y/')).length,
      0,
    );
  });

  it('a topic without metadata or without subscribers is skipped; members without partitions still get an entry', () => {
    const members = membersOf({ a: ['x', 'gone'], b: ['x'] });
    const result = flat(subscribedRoundRobin('a', members, new Set(['x', 'gone']), metadataOf({ x: 1 })));
    assert.deepEqual(result, { a: ['x/0'], b: [] });
  });
});
