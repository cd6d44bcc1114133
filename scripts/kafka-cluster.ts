/**
 * A local three-node Apache Kafka cluster on loopback, from the same jars as scripts/kafka.ts:
 * three KRaft nodes, each a combined controller + broker, a static three-voter controller quorum,
 * replication factor 3 and min.insync.replicas 2 by default. For running socstream against a real
 * cluster and for the fault tests (test/integration/kafka-cluster*.test.ts,
 * test/reliability/cluster.test.ts); see docs/kafka.md.
 *
 *   node scripts/kafka-cluster.ts start | stop | status
 *   node scripts/kafka-cluster.ts kill N        SIGKILL node N (1..3)
 *   node scripts/kafka-cluster.ts restart N     stop node N (SIGTERM: controlled shutdown) if it
 *                                              runs, start it, wait until it is back in sync
 *   node scripts/kafka-cluster.ts controller    the node id of the active controller
 *   node scripts/kafka-cluster.ts topics --describe ...   Kafka's tools, bootstrap = the cluster
 *
 * Layout under .data/kafka-cluster: cluster-id, tools-log4j2.properties, node1..3/{data, config,
 * logs, broker.log, kafka.pid}. Jars: .data/kafka/lib (shared with scripts/kafka.ts).
 * Environment: SOCSTREAM_KAFKA_CLUSTER_DIR, SOCSTREAM_KAFKA_CLUSTER_PORT (first client port,
 * default 19092; nodes take PORT, PORT+1, PORT+2 and their controllers PORT+100..PORT+102),
 * SOCSTREAM_KAFKA_DIR (where the jars are), SOCSTREAM_KAFKA_START_TIMEOUT_MS,
 * SOCSTREAM_KAFKA_CLUSTER_HEAP (default 512m per node).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, kGetApi, kGetBootstrapConnection } from '@platformatic/kafka';
import {
  alive,
  BROKER_LOG4J_TEXT,
  clusterId,
  ensureJars,
  fail,
  fileTail,
  HOST,
  javaArgs,
  log,
  portOpen,
  ROOT,
  readPid,
  STARTED_MARKER,
  TOOL_JVM,
  TOOLS,
  TOOLS_LOG4J_TEXT,
  withBootstrap,
} from './kafka-common.ts';

const HOME = resolve(ROOT, process.env.SOCSTREAM_KAFKA_CLUSTER_DIR ?? '.data/kafka-cluster');
const LIB = join(resolve(ROOT, process.env.SOCSTREAM_KAFKA_DIR ?? '.data/kafka'), 'lib');
const CLUSTER_ID_FILE = join(HOME, 'cluster-id');
const TOOLS_LOG4J = join(HOME, 'tools-log4j2.properties');
const FIRST_PORT = Number(process.env.SOCSTREAM_KAFKA_CLUSTER_PORT ?? 19092);
/** Controllers listen 100 ports above their node's client port. */
const CONTROLLER_OFFSET = 100;
const NODE_IDS = [1, 2, 3] as const;
const START_TIMEOUT_MS = Number(process.env.SOCSTREAM_KAFKA_START_TIMEOUT_MS ?? 240_000);
const STOP_GRACE_MS = 30_000;
const HEAP = process.env.SOCSTREAM_KAFKA_CLUSTER_HEAP ?? '512m';
/** Three JVMs on a shared 2-core machine: small heaps, few threads. */
const NODE_JVM = [
  `-Xms${HEAP}`,
  `-Xmx${HEAP}`,
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:ActiveProcessorCount=2',
];

interface Node {
  id: number;
  port: number;
  controllerPort: number;
  home: string;
  data: string;
  config: string;
  logs: string;
  properties: string;
  log4j: string;
  pidFile: string;
  brokerLog: string;
}

function node(id: number): Node {
  const home = join(HOME, `node${id}`);
  const config = join(home, 'config');
  return {
    id,
    port: FIRST_PORT + id - 1,
    controllerPort: FIRST_PORT + CONTROLLER_OFFSET + id - 1,
    home,
    data: join(home, 'data'),
    config,
    logs: join(home, 'logs'),
    properties: join(config, 'server.properties'),
    log4j: join(config, 'log4j2.properties'),
    pidFile: join(home, 'kafka.pid'),
    brokerLog: join(home, 'broker.log'),
  };
}

const NODES = NODE_IDS.map(node);
const BOOTSTRAP = NODES.map((n) => `${HOST}:${n.port}`).join(',');
const VOTERS = NODES.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(',');

function serverProperties(n: Node): string {
  return `# written by scripts/kafka-cluster.ts on every start; edit that file, not this one
process.roles=broker,controller
node.id=${n.id}
controller.quorum.voters=${VOTERS}
listeners=PLAINTEXT://${HOST}:${n.port},CONTROLLER://${HOST}:${n.controllerPort}
advertised.listeners=PLAINTEXT://${HOST}:${n.port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${n.data}
num.partitions=6
# a real cluster: every topic on all three nodes, a write acknowledged once two hold it
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# a replica out of the ISR never becomes leader: losing acknowledged writes is not an option
unclean.leader.election.enable=false
# a restarted node takes its preferred leaderships back within 30 s (default 300 s)
leader.imbalance.check.interval.seconds=30
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
# three JVMs on a small machine
num.network.threads=2
num.io.threads=4
num.replica.fetchers=1
background.threads=4
log.retention.hours=24
log.segment.bytes=67108864
`;
}

function writeConfigs(n: Node): void {
  mkdirSync(n.config, { recursive: true });
  mkdirSync(n.logs, { recursive: true });
  writeFileSync(n.properties, serverProperties(n));
  writeFileSync(n.log4j, BROKER_LOG4J_TEXT);
  writeFileSync(TOOLS_LOG4J, TOOLS_LOG4J_TEXT);
}

/** Static voters: every node formats with the same cluster id and no --standalone. */
function ensureFormatted(n: Node): void {
  if (existsSync(join(n.data, 'meta.properties'))) return;
  mkdirSync(n.data, { recursive: true });
  const args = ['format', '-g', '-t', clusterId(CLUSTER_ID_FILE), '-c', n.properties];
  const r = spawnSync('java', javaArgs(LIB, n.logs, 'kafka.tools.StorageTool', args, TOOL_JVM, TOOLS_LOG4J), {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}${r.stderr}`);
    fail(`formatting node ${n.id}'s KRaft storage in ${n.data} failed (exit ${r.status})`);
  }
}

function pidOf(n: Node): number | null {
  const pid = readPid(n.pidFile);
  return pid !== null && alive(pid) ? pid : null;
}

function started(n: Node): boolean {
  return existsSync(n.brokerLog) && readFileSync(n.brokerLog, 'utf8').includes(STARTED_MARKER);
}

/** Spawns node n's JVM detached (it outlives this script); returns its pid. */
function spawnNode(n: Node): number {
  writeConfigs(n);
  ensureFormatted(n);
  const out = openSync(n.brokerLog, 'w');
  const child = spawn('java', javaArgs(LIB, n.logs, 'kafka.Kafka', [n.properties], NODE_JVM, n.log4j), {
    cwd: n.home,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) fail(`could not spawn java for node ${n.id}`);
  writeFileSync(n.pidFile, `${child.pid}\n`);
  child.unref();
  return child.pid;
}

function admin(): Admin {
  return new Admin({
    clientId: 'socstream-kafka-cluster',
    bootstrapBrokers: BOOTSTRAP.split(','),
    connectTimeout: 2000,
    timeout: 5000,
    retries: 0,
  });
}

interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Kafka's internal topics socstream's groups depend on (the group coordinators live here). */
const INTERNAL_TOPICS = ['__consumer_offsets'];

/**
 * Every partition of every topic from one metadata request, plus the internal topics
 * (`__consumer_offsets`: a group's coordinator is the leader of its partition, so a rolling
 * restart must wait for it too).
 */
async function partitions(client: Admin): Promise<PartitionState[]> {
  const names = await client.listTopics();
  const out: PartitionState[] = await internalPartitions(client);
  if (names.length > 0) {
    const metadata = await client.metadata({ topics: names, forceUpdate: true });
    for (const [topic, t] of metadata.topics)
      t.partitions.forEach((p, partition) => {
        out.push({ topic, partition, leader: p.leader, replicas: p.replicas, isr: p.isr });
      });
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

interface RawMetadataTopic {
  name: string;
  errorCode: number;
  partitions: Array<{ partitionIndex: number; leaderId: number; replicaNodes: number[]; isrNodes: number[] }>;
}
type MetadataApi = (
  connection: unknown,
  topics: string[],
  autocreate: boolean,
  authorizedOperations: boolean,
  cb: (
    error: (Error & { response?: { topics?: RawMetadataTopic[] } }) | null,
    response: { topics: RawMetadataTopic[] },
  ) => void,
) => void;

/**
 * The internal topics' partitions, by a Metadata request of the client's own API (its metadata
 * cache drops internal topics, @platformatic/kafka 2.12). A topic not created yet (the first group
 * creates `__consumer_offsets`) has no partitions.
 */
function internalPartitions(client: Admin): Promise<PartitionState[]> {
  const raw = client as unknown as {
    [kGetBootstrapConnection]: (cb: (error: Error | null, connection: unknown) => void) => void;
    [kGetApi]: (name: string, cb: (error: Error | null, api: MetadataApi) => void) => void;
  };
  return new Promise((resolvePartitions, reject) => {
    raw[kGetBootstrapConnection]((error, connection) => {
      if (error) return reject(error);
      raw[kGetApi]('Metadata', (error, api) => {
        if (error) return reject(error);
        api(connection, INTERNAL_TOPICS, false, false, (error, response) => {
          // UNKNOWN_TOPIC_OR_PARTITION (3) for a topic not created yet comes as a ResponseError
          const topics = error ? error.response?.topics : response.topics;
          if (topics === undefined) return reject(error);
          const out: PartitionState[] = [];
          for (const t of topics) {
            if (t.errorCode === 3) continue;
            if (t.errorCode !== 0) return reject(error ?? new Error(`${t.name}: error code ${t.errorCode}`));
            for (const p of t.partitions)
              out.push({
                topic: t.name,
                partition: p.partitionIndex,
                leader: p.leaderId,
                replicas: p.replicaNodes,
                isr: p.isrNodes,
              });
          }
          resolvePartitions(out);
        });
      });
    });
  });
}

/**
 * The active controller, from each live node's quorum-state file (KRaft rewrites it on every
 * election): the leader of the highest epoch any node has seen. Brokers do not tell clients which
 * controller is active (their DescribeCluster answers a random broker), and this needs no JVM.
 */
function activeController(): { leaderId: number; epoch: number } | null {
  let best: { leaderId: number; epoch: number } | null = null;
  for (const n of NODES) {
    if (pidOf(n) === null) continue;
    const file = join(n.data, '__cluster_metadata-0', 'quorum-state');
    if (!existsSync(file)) continue;
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as { leaderId?: number; leaderEpoch?: number };
      const leaderId = state.leaderId ?? -1;
      const epoch = state.leaderEpoch ?? -1;
      if (leaderId >= 0 && (best === null || epoch > best.epoch)) best = { leaderId, epoch };
    } catch {
      // being rewritten: the next look reads it whole
    }
  }
  return best;
}

type Readiness = { ok: boolean; state: string };

/**
 * Ready when the wanted nodes are up and, over the cluster's metadata: every partition has a
 * leader and, with `inSync`, every replica of every partition is in its ISR.
 */
async function readiness(wanted: Node[], inSync: boolean): Promise<Readiness> {
  const up = wanted.filter((n) => pidOf(n) !== null && started(n));
  const open = await Promise.all(wanted.map((n) => portOpen(HOST, n.port)));
  const nodes = `${up.length}/${wanted.length} nodes started, ${open.filter(Boolean).length} listening`;
  if (up.length < wanted.length || open.includes(false)) return { ok: false, state: nodes };
  const client = admin();
  try {
    const metadata = await client.metadata({ topics: [], forceUpdate: true });
    const brokers = [...metadata.brokers.keys()];
    const registered = wanted.filter((n) => brokers.includes(n.id)).length;
    if (registered < wanted.length)
      return { ok: false, state: `${nodes}, ${registered}/${wanted.length} registered` };
    const parts = await partitions(client);
    const leaderless = parts.filter((p) => p.leader < 0).length;
    const underReplicated = parts.filter((p) => p.isr.length < p.replicas.length).length;
    const state = `${nodes}, ${parts.length} partitions, ${leaderless} without a leader, ${underReplicated} under-replicated`;
    return { ok: leaderless === 0 && (!inSync || underReplicated === 0), state };
  } catch (error) {
    return { ok: false, state: `${nodes}, metadata: ${(error as Error).message}` };
  } finally {
    await client.close().catch(() => {});
  }
}

async function waitReady(wanted: Node[], inSync: boolean, what: string): Promise<void> {
  const startedAt = Date.now();
  const tty = process.stderr.isTTY === true;
  let lastReport = -5000;
  for (;;) {
    const dead = wanted.find((n) => pidOf(n) === null);
    if (dead) {
      if (tty) process.stderr.write('\n');
      fail(
        `node ${dead.id} exited during ${what}; last lines of ${dead.brokerLog}:\n${fileTail(dead.brokerLog)}`,
      );
    }
    const r = await readiness(wanted, inSync);
    const elapsedMs = Date.now() - startedAt;
    if (r.ok) {
      if (tty) process.stderr.write('\n');
      log(`${what}: ready in ${(elapsedMs / 1000).toFixed(1)} s (${r.state})`);
      return;
    }
    if (elapsedMs > START_TIMEOUT_MS) {
      if (tty) process.stderr.write('\n');
      fail(
        `${what}: not ready within ${START_TIMEOUT_MS / 1000} s (${r.state}); stop with npm run kafka:cluster -- stop`,
      );
    }
    if (tty) process.stderr.write(`\rkafka: ${what} ... ${Math.round(elapsedMs / 1000)} s (${r.state})   `);
    else if (elapsedMs - lastReport >= 5000) {
      lastReport = elapsedMs;
      log(`${what}: ${Math.round(elapsedMs / 1000)} s (${r.state})`);
    }
    await sleep(500);
  }
}

async function start(): Promise<void> {
  const startedAt = Date.now();
  ensureJars(LIB);
  for (const n of NODES) {
    const pid = pidOf(n);
    if (pid !== null) {
      log(`node ${n.id} already running (pid ${pid}) on ${HOST}:${n.port}`);
      continue;
    }
    for (const port of [n.port, n.controllerPort])
      if (await portOpen(HOST, port))
        fail(`port ${port} (node ${n.id}) is taken by a process not started from ${HOME}`);
    const spawned = spawnNode(n);
    log(
      `node ${n.id} starting (pid ${spawned}): client ${HOST}:${n.port}, controller ${HOST}:${n.controllerPort}, log ${n.brokerLog}`,
    );
  }
  await waitReady(NODES, false, 'cluster start');
  log(`cluster ready on ${BOOTSTRAP} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

async function stopNode(n: Node): Promise<void> {
  const pid = pidOf(n);
  rmSync(n.pidFile, { force: true });
  if (pid === null) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    log(`node ${n.id} (pid ${pid}) ignored SIGTERM for ${STOP_GRACE_MS / 1000} s; sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  log(`node ${n.id} stopped (pid ${pid})`);
}

/**
 * All three at once: a node stopped alone would hand its leaderships to the others and wait for
 * the controller quorum, which the last one no longer has.
 */
async function stop(): Promise<void> {
  const running = NODES.filter((n) => pidOf(n) !== null);
  if (running.length === 0) log('cluster not running');
  await Promise.all(running.map(stopNode));
}

async function kill(n: Node): Promise<void> {
  const pid = pidOf(n);
  if (pid === null) {
    log(`node ${n.id} is not running`);
    return;
  }
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
  rmSync(n.pidFile, { force: true });
  log(`node ${n.id} killed (pid ${pid}, SIGKILL)`);
}

/**
 * Stops node n if it runs (SIGTERM: Kafka's controlled shutdown moves its leaderships first),
 * starts it, and waits: for every partition to have a leader and, when all three nodes run, for
 * every replica to be back in sync — so a rolling restart can take the next node safely.
 */
async function restart(n: Node): Promise<void> {
  const startedAt = Date.now();
  ensureJars(LIB);
  await stopNode(n);
  const pid = spawnNode(n);
  log(`node ${n.id} starting (pid ${pid})`);
  const running = NODES.filter((x) => pidOf(x) !== null);
  await waitReady(running, running.length === NODES.length, `node ${n.id} restart`);
  log(`node ${n.id} back in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

async function status(): Promise<void> {
  const pids = NODES.map((n) => pidOf(n));
  const controller = activeController();
  const byLeader = new Map<number, string[]>();
  let failure: string | undefined;
  if (pids.some((p) => p !== null)) {
    const client = admin();
    try {
      for (const p of await partitions(client)) {
        const led = byLeader.get(p.leader) ?? [];
        led.push(
          `${p.topic}-${p.partition}${p.isr.length < p.replicas.length ? ` (isr ${p.isr.join(',')})` : ''}`,
        );
        byLeader.set(p.leader, led);
      }
    } catch (error) {
      failure = (error as Error).message;
    } finally {
      await client.close().catch(() => {});
    }
  }
  for (const [i, n] of NODES.entries()) {
    const pid = pids[i];
    const role = controller?.leaderId === n.id ? ', active controller' : '';
    const led = byLeader.get(n.id) ?? [];
    process.stdout.write(
      `node ${n.id}: ${pid === null ? 'not running' : `pid ${pid}`}, client ${HOST}:${n.port}, controller ${HOST}:${n.controllerPort}${role}\n`,
    );
    process.stdout.write(`  leads ${led.length} partitions${led.length ? `: ${led.join(' ')}` : ''}\n`);
  }
  const leaderless = byLeader.get(-1) ?? [];
  if (leaderless.length) process.stdout.write(`without a leader: ${leaderless.join(' ')}\n`);
  if (failure) process.stdout.write(`metadata: ${failure}\n`);
  process.stdout.write(`bootstrap: ${BOOTSTRAP}\n`);
  process.exitCode = pids.every((p) => p !== null) ? 0 : pids.some((p) => p !== null) ? 1 : 3;
}

function tool(name: string, args: string[]): void {
  ensureJars(LIB);
  mkdirSync(HOME, { recursive: true });
  writeFileSync(TOOLS_LOG4J, TOOLS_LOG4J_TEXT);
  const full = withBootstrap(name, args, BOOTSTRAP);
  const r = spawnSync('java', javaArgs(LIB, HOME, TOOLS[name], full, TOOL_JVM, TOOLS_LOG4J), {
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
}

function usage(problem?: string): never {
  if (problem) log(problem);
  process.stderr.write(
    'usage: npm run kafka:cluster -- <command>\n' +
      '  start | stop | status | controller\n' +
      '  kill N | restart N          (N = 1, 2 or 3)\n' +
      `  ${Object.keys(TOOLS).join(' | ')} [Kafka tool arguments]\n`,
  );
  process.exit(2);
}

function nodeArg(value: string | undefined): Node {
  const n = NODES.find((x) => String(x.id) === value);
  if (n === undefined) usage(`expected a node number 1, 2 or 3, got ${value ?? 'nothing'}`);
  return n;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'start') await start();
else if (command === 'stop') await stop();
else if (command === 'status') await status();
else if (command === 'kill') await kill(nodeArg(rest[0]));
else if (command === 'restart') await restart(nodeArg(rest[0]));
else if (command === 'controller') {
  const c = activeController();
  if (c === null) fail('no active controller known (is the cluster running?)');
  process.stdout.write(`${c.leaderId}\n`);
} else if (command !== undefined && command in TOOLS) tool(command, rest);
else usage(command === undefined ? undefined : `unknown command: ${command}`);
