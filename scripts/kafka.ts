/**
 * The local Apache Kafka broker (KRaft, one combined broker + controller node) and Kafka's own
 * command-line tools, from the jars that kafka/pom.xml pulls off Maven Central. No dependencies
 * beyond node:*; see docs/kafka.md.
 *
 *   node scripts/kafka.ts start | stop | status
 *   node scripts/kafka.ts topics --list
 *   node scripts/kafka.ts console-consumer --topic T [--from-beginning]
 *   node scripts/kafka.ts console-producer --topic T
 *   node scripts/kafka.ts producer-perf --topic T --num-records N --record-size 300 --throughput -1
 *   node scripts/kafka.ts consumer-perf --topic T --messages N
 *   node scripts/kafka.ts consumer-groups --list
 *
 * Layout under .data/kafka: lib/ (jars, cached), data/ (log.dirs), config/, logs/, broker.log,
 * kafka.pid. SOCSTREAM_KAFKA_DIR moves it, SOCSTREAM_KAFKA_PORT changes the port (default 9092);
 * SOCSTREAM_KAFKA_START_TIMEOUT_MS bounds the start wait.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  alive,
  BROKER_LOG4J_TEXT,
  clusterId,
  ensureJars as ensureJarsIn,
  fail,
  fileTail,
  HOST,
  javaArgs,
  log,
  portOpen as portOpenAt,
  ROOT,
  readPid as readPidFile,
  STARTED_MARKER,
  TOOL_JVM,
  TOOLS,
  TOOLS_LOG4J_TEXT,
  withBootstrap,
} from './kafka-common.ts';

const HOME = resolve(ROOT, process.env.SOCSTREAM_KAFKA_DIR ?? '.data/kafka');
const LIB = join(HOME, 'lib');
const DATA = join(HOME, 'data');
const CONFIG = join(HOME, 'config');
const LOGS = join(HOME, 'logs');
const SERVER_PROPERTIES = join(CONFIG, 'server.properties');
const BROKER_LOG4J = join(CONFIG, 'log4j2.properties');
const TOOLS_LOG4J = join(CONFIG, 'tools-log4j2.properties');
const CLUSTER_ID_FILE = join(HOME, 'cluster-id');
const PID_FILE = join(HOME, 'kafka.pid');
const BROKER_LOG = join(HOME, 'broker.log');

/** SOCSTREAM_KAFKA_PORT runs a second broker beside the usual one (the controller takes port + 1). */
const PORT = Number(process.env.SOCSTREAM_KAFKA_PORT ?? 9092);
const CONTROLLER_PORT = PORT + 1;
const BOOTSTRAP = `${HOST}:${PORT}`;
const START_TIMEOUT_MS = Number(process.env.SOCSTREAM_KAFKA_START_TIMEOUT_MS ?? 180_000);
const STOP_GRACE_MS = 30_000;
/** The machine is shared: a small heap is plenty for tests and demos. */
const BROKER_JVM = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20'];

const portOpen = () => portOpenAt(HOST, PORT);
const readPid = () => readPidFile(PID_FILE);
const logTail = () => fileTail(BROKER_LOG);
const ensureJars = () => ensureJarsIn(LIB);

function java(mainClass: string, args: string[], jvm: string[], log4j: string): string[] {
  return javaArgs(LIB, LOGS, mainClass, args, jvm, log4j);
}

// ---------------------------------------------------------------------------------------------
// configuration

function serverProperties(): string {
  return `# written by scripts/kafka.ts on every start; edit that file, not this one
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA}
num.partitions=6
# one node: internal topics must not ask for 3 replicas, or groups never find a coordinator
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# tests create and join groups all the time: no initial rebalance delay
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
# a developer machine: keep the disk bounded
log.retention.hours=24
log.segment.bytes=67108864
`;
}

function writeConfigs(): void {
  mkdirSync(CONFIG, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  writeFileSync(SERVER_PROPERTIES, serverProperties());
  writeFileSync(BROKER_LOG4J, BROKER_LOG4J_TEXT);
  writeFileSync(TOOLS_LOG4J, TOOLS_LOG4J_TEXT);
}

/** Formats the KRaft storage once; `-g` (ignore formatted) makes a re-run harmless. */
function ensureFormatted(): void {
  if (existsSync(join(DATA, 'meta.properties'))) return;
  mkdirSync(DATA, { recursive: true });
  const args = ['format', '--standalone', '-g', '-t', clusterId(CLUSTER_ID_FILE), '-c', SERVER_PROPERTIES];
  const r = spawnSync('java', java('kafka.tools.StorageTool', args, TOOL_JVM, TOOLS_LOG4J), {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}${r.stderr}`);
    fail(`formatting the KRaft storage in ${DATA} failed (exit ${r.status})`);
  }
}

// ---------------------------------------------------------------------------------------------
// commands

function brokerStarted(): boolean {
  return existsSync(BROKER_LOG) && readFileSync(BROKER_LOG, 'utf8').includes(STARTED_MARKER);
}

async function waitUntilReady(pid: number, startedAt: number): Promise<void> {
  const tty = process.stderr.isTTY === true;
  let lastReport = 0;
  for (;;) {
    const elapsedMs = Date.now() - startedAt;
    const listening = await portOpen();
    const started = brokerStarted();
    if (listening && started) break;
    if (!alive(pid)) {
      if (tty) process.stderr.write('\n');
      rmSync(PID_FILE, { force: true });
      fail(`the broker exited during start-up; last lines of ${BROKER_LOG}:\n${logTail()}`);
    }
    if (elapsedMs > START_TIMEOUT_MS) {
      if (tty) process.stderr.write('\n');
      fail(
        `the broker did not come up on ${BOOTSTRAP} within ${START_TIMEOUT_MS / 1000} s ` +
          `(pid ${pid} still running; stop it with npm run kafka:stop); last lines of ${BROKER_LOG}:\n${logTail()}`,
      );
    }
    const state = `port ${listening ? 'open' : 'closed'}, log ${started ? 'started' : 'starting'}`;
    if (tty)
      process.stderr.write(
        `\rkafka: waiting for the broker ... ${Math.round(elapsedMs / 1000)} s (${state})  `,
      );
    else if (elapsedMs - lastReport >= 5000) {
      lastReport = elapsedMs;
      log(`waiting for the broker: ${Math.round(elapsedMs / 1000)} s (${state})`);
    }
    await sleep(250);
  }
  if (tty) process.stderr.write('\n');
}

async function start(): Promise<void> {
  const pid = readPid();
  if (pid !== null && alive(pid)) {
    log(`already running (pid ${pid}) on ${BOOTSTRAP}`);
    return;
  }
  if (await portOpen()) {
    log(`something already listens on ${BOOTSTRAP} (not started from ${HOME}); leaving it alone`);
    return;
  }
  const startedAt = Date.now();
  ensureJars();
  writeConfigs();
  ensureFormatted();
  const out = openSync(BROKER_LOG, 'w');
  const child = spawn('java', java('kafka.Kafka', [SERVER_PROPERTIES], BROKER_JVM, BROKER_LOG4J), {
    cwd: HOME,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) fail('could not spawn java');
  writeFileSync(PID_FILE, `${child.pid}\n`);
  child.unref();
  log(`broker starting (pid ${child.pid}), log in ${BROKER_LOG}`);
  await waitUntilReady(child.pid, startedAt);
  log(`broker ready on ${BOOTSTRAP} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (pid ${child.pid})`);
}

async function stop(): Promise<void> {
  const pid = readPid();
  if (pid === null || !alive(pid)) {
    rmSync(PID_FILE, { force: true });
    log('not running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    log(`pid ${pid} ignored SIGTERM for ${STOP_GRACE_MS / 1000} s; sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  rmSync(PID_FILE, { force: true });
  log(`stopped (pid ${pid})`);
}

async function status(): Promise<void> {
  const pid = readPid();
  const running = pid !== null && alive(pid);
  const listening = await portOpen();
  if (running)
    log(`running (pid ${pid}), ${BOOTSTRAP} ${listening ? 'accepts connections' : 'not answering yet'}`);
  else if (listening) log(`not started from ${HOME}, but something listens on ${BOOTSTRAP}`);
  else log('not running');
  process.exitCode = running || listening ? 0 : 3;
}

/** Runs one of Kafka's tools with the user's arguments, defaulting the bootstrap server to ours. */
function tool(name: string, args: string[]): void {
  const mainClass = TOOLS[name];
  if (mainClass === undefined) usage(`unknown command: ${name}`);
  ensureJars();
  writeConfigs();
  const full = withBootstrap(name, args, BOOTSTRAP);
  const r = spawnSync('java', java(mainClass, full, TOOL_JVM, TOOLS_LOG4J), { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

function usage(problem?: string): never {
  if (problem) log(problem);
  process.stderr.write(
    `usage: npm run kafka -- <command> [args]\n  start | stop | status\n  ${Object.keys(TOOLS).join(' | ')} [Kafka tool arguments]\n`,
  );
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'start') await start();
else if (command === 'stop') await stop();
else if (command === 'status') await status();
else if (command !== undefined && command in TOOLS) tool(command, rest);
else usage(command === undefined ? undefined : `unknown command: ${command}`);
