/**
 * The full form of the cluster fault tests (issue 18), run by `npm run test:reliability`: on a
 * three-node cluster of its own, one paced generated stream per fault — SIGKILL of the node leading
 * the raw and matches partitions, a rolling restart of all three, SIGKILL of the active controller,
 * two nodes SIGKILLed for 20 s — each ending with every input id in the lake and on the events
 * topics, the alerts of an uninterrupted run exactly once (also read off the alerts topic with
 * kcat), every group caught up and no role restarted by hand. Sizes: CLUSTER_EVENTS, CLUSTER_RATE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../helpers/kafka-cluster.ts';
import { kafkaSkipReason } from '../helpers/reliability.ts';
import {
  type ClusterFault,
  clusterFaultScenario,
  formatClusterFigures,
} from '../helpers/reliability-cluster.ts';

const SKIP = kafkaSkipReason('cluster fault tests, full form');
if (SKIP) process.stderr.write(`\n*** ${SKIP} ***\n\n`);
const EVENTS = Number(process.env.CLUSTER_EVENTS ?? 50_000);
const RATE = Number(process.env.CLUSTER_RATE ?? 1000);
const TIMEOUT_MS = 20 * 60_000;

const FAULTS: Array<[ClusterFault, string]> = [
  ['leader', 'SIGKILL of the node leading the most raw and matches partitions'],
  ['rolling', 'a rolling restart of nodes 1, 2 and 3'],
  ['controller', 'SIGKILL of the active KRaft controller'],
  ['two', 'two of three nodes SIGKILLed for 20 s (writes block, then resume)'],
];

/** CLUSTER_FAULTS=leader,two runs only those. */
const ONLY = process.env.CLUSTER_FAULTS?.split(',');

describe('broker faults on a three-node cluster, full form', { skip: SKIP }, () => {
  const cluster = new TestCluster();
  before(() => cluster.start());
  after(() => cluster.dispose());

  for (const [fault, what] of FAULTS.filter(([f]) => ONLY === undefined || ONLY.includes(f)))
    test(`${what}, ${EVENTS} events at ${RATE}/s: nothing lost, the alerts of an uninterrupted run exactly once, no role restarted by hand`, {
      timeout: 2 * TIMEOUT_MS,
    }, async () => {
      const f = await clusterFaultScenario(cluster, fault, {
        events: EVENTS,
        rate: RATE,
        timeoutMs: TIMEOUT_MS,
      });
      process.stderr.write(formatClusterFigures(f));
      assert.equal(f.lost, 0);
    });
});
