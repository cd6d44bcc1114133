/**
 * The group leader's partition assignment, given to @platformatic/kafka's Consumer as
 * `partitionAssigner` (src/bus/kafka.ts). The client's own round robin (2.12.1) deals the
 * LEADER's topics to every member and ignores what the others subscribe to: in a group whose
 * members subscribe to different topics (socstream's group names are fixed, so two deployments on
 * one cluster with other topic prefixes share `socstream-process`), the other topics get no owner
 * and a member is given partitions it never fetches; that group makes no progress until its
 * leader leaves (test/integration/kafka-shared-group.test.ts). Here, as in Java's assignors, each
 * topic's partitions go round robin to the members subscribed to it. With one subscription shared
 * by every member (the usual case) the result is the client's: the flattened topic-partitions
 * dealt in member order, so `member = partition % members` still holds across topics of equal
 * partition counts (bench/e2e.bench.ts relies on it).
 */
import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';

/** Each member's assignment: a topic's partitions dealt round robin over the members subscribed to it. */
export function subscribedRoundRobin(
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  leaderTopics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const assignments: GroupPartitionsAssignments[] = [];
  const byMember = new Map<string, GroupPartitionsAssignments>();
  for (const memberId of members.keys()) {
    const a = { memberId, assignments: new Map() };
    assignments.push(a);
    byMember.set(memberId, a);
  }
  // The next member to deal to, per set of subscribers (one counter in the usual case, continuing
  // across topics as the client's round robin does).
  const next = new Map<string, number>();
  for (const topic of topicsInOrder(members, leaderTopics)) {
    const partitionsCount = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const subscribers = [...members.values()].filter((m) => m.topics?.includes(topic)).map((m) => m.memberId);
    if (subscribers.length === 0 || partitionsCount === 0) continue;
    const key = subscribers.join('\u0000');
    let turn = next.get(key) ?? 0;
    for (let partition = 0; partition < partitionsCount; partition++) {
      const member = byMember.get(subscribers[turn++ % subscribers.length]) as GroupPartitionsAssignments;
      let topicAssignment = member.assignments.get(topic);
      if (topicAssignment === undefined) {
        topicAssignment = { topic, partitions: [] };
        member.assignments.set(topic, topicAssignment);
      }
      topicAssignment.partitions.push(partition);
    }
    next.set(key, turn);
  }
  return assignments;
}

/** The leader's topics in its order, then the other members' topics, sorted. */
function topicsInOrder(
  members: Map<string, ExtendedGroupProtocolSubscription>,
  leaderTopics: Set<string>,
): string[] {
  const others = new Set<string>();
  for (const m of members.values()) for (const t of m.topics ?? []) if (!leaderTopics.has(t)) others.add(t);
  return [...leaderTopics, ...[...others].sort()];
}
