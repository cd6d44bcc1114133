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
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const HOME = resolve(ROOT, process.env.SOCSTREAM_KAFKA_DIR ?? '.data/kafka');
const POM = join(ROOT, 'kafka/pom.xml');
const LIB = join(HOME, 'lib');
const LIB_STAMP = join(LIB, '.pom.sha256');
const DATA = join(HOME, 'data');
const CONFIG = join(HOME, 'config');
const LOGS = join(HOME, 'logs');
const SERVER_PROPERTIES = join(CONFIG, 'server.properties');
const BROKER_LOG4J = join(CONFIG, 'log4j2.properties');
const TOOLS_LOG4J = join(CONFIG, 'tools-log4j2.properties');
const CLUSTER_ID_FILE = join(HOME, 'cluster-id');
const PID_FILE = join(HOME, 'kafka.pid');
const BROKER_LOG = join(HOME, 'broker.log');

const HOST = '127.0.0.1';
/** SOCSTREAM_KAFKA_PORT runs a second broker beside the usual one (the controller takes port + 1). */
const PORT = Number(process.env.SOCSTREAM_KAFKA_PORT ?? 9092);
const CONTROLLER_PORT = PORT + 1;
const BOOTSTRAP = `${HOST}:${PORT}`;
/** The line KafkaRaftServer logs once the broker serves requests. */
const STARTED_MARKER = 'Kafka Server started';
const START_TIMEOUT_MS = Number(process.env.SOCSTREAM_KAFKA_START_TIMEOUT_MS ?? 180_000);
const STOP_GRACE_MS = 30_000;
/** The machine is shared: a small heap is plenty for tests and demos. */
const BROKER_JVM = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20'];
const TOOL_JVM = ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/** Kafka's command-line tools by the name users type; all take --bootstrap-server in 4.x. */
const TOOLS: Record<string, string> = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'producer-perf': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf': 'org.apache.kafka.tools.ConsumerPerformance',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
};

function log(message: string): void {
  process.stderr.write(`kafka: ${message}\n`);
}

function fail(message: string): never {
  log(message);
  process.exit(1);
}

function portOpen(host = HOST, port = PORT, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function readPid(): number | null {
  if (!existsSync(PID_FILE)) return null;
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function logTail(lines = 30): string {
  if (!existsSync(BROKER_LOG)) return '(no broker log)';
  return readFileSync(BROKER_LOG, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// jars

function pomDigest(): string {
  return createHash('sha256').update(readFileSync(POM)).digest('hex');
}

/** Copies the broker's runtime jars into lib/ once per pom version; Maven caches them in ~/.m2. */
function ensureJars(): void {
  const digest = pomDigest();
  if (existsSync(LIB_STAMP) && readFileSync(LIB_STAMP, 'utf8').trim() === digest) return;
  if (spawnSync('sh', ['-c', 'command -v mvn'], { stdio: 'ignore' }).status !== 0)
    fail('Maven (mvn) is not installed: it fetches the Kafka jars (Debian: apt-get install -y maven)');
  log(`fetching the Kafka jars with Maven into ${LIB} (first run only) ...`);
  rmSync(LIB, { recursive: true, force: true });
  mkdirSync(LIB, { recursive: true });
  const started = Date.now();
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${LIB}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (mvn.status !== 0) {
    process.stderr.write(`${mvn.stdout}${mvn.stderr}`);
    fail(`mvn dependency:copy-dependencies failed (exit ${mvn.status}); see the output above`);
  }
  writeFileSync(LIB_STAMP, `${digest}\n`);
  log(`jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function java(mainClass: string, args: string[], jvm: string[], log4j: string): string[] {
  return [
    ...jvm,
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${LOGS}`,
    '-cp',
    `${LIB}/*`,
    mainClass,
    ...args,
  ];
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

const BROKER_LOG4J_TEXT = `appender.c.type=Console
appender.c.name=STDOUT
appender.c.layout.type=PatternLayout
appender.c.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.c.ref=STDOUT
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
`;

/** The tools print their data on stdout: their own logging goes to stderr, warnings only. */
const TOOLS_LOG4J_TEXT = `appender.e.type=Console
appender.e.name=STDERR
appender.e.target=SYSTEM_ERR
appender.e.layout.type=PatternLayout
appender.e.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.e.ref=STDERR
`;

function writeConfigs(): void {
  mkdirSync(CONFIG, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  writeFileSync(SERVER_PROPERTIES, serverProperties());
  writeFileSync(BROKER_LOG4J, BROKER_LOG4J_TEXT);
  writeFileSync(TOOLS_LOG4J, TOOLS_LOG4J_TEXT);
}

/**
 * A cluster id as Kafka's Uuid.randomUuid makes it: 16 random bytes, base64url without padding,
 * never starting with '-' (Kafka rerolls those so the id is not taken for a command-line flag).
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function clusterId(): string {
  if (existsSync(CLUSTER_ID_FILE)) return readFileSync(CLUSTER_ID_FILE, 'utf8').trim();
  const id = newClusterId();
  mkdirSync(HOME, { recursive: true });
  writeFileSync(CLUSTER_ID_FILE, `${id}\n`);
  return id;
}

/** Formats the KRaft storage once; `-g` (ignore formatted) makes a re-run harmless. */
function ensureFormatted(): void {
  if (existsSync(join(DATA, 'meta.properties'))) return;
  mkdirSync(DATA, { recursive: true });
  const args = ['format', '--standalone', '-g', '-t', clusterId(), '-c', SERVER_PROPERTIES];
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

/**
 * Adds our broker unless the user named one. ProducerPerformance (4.1) has no --bootstrap-server:
 * it takes bootstrap.servers among its --producer-props.
 */
function withBootstrap(tool: string, args: string[]): string[] {
  if (args.some((a) => a === '--bootstrap-server' || a.startsWith('--bootstrap-server='))) return args;
  if (args.some((a) => a.startsWith('bootstrap.servers='))) return args;
  if (tool !== 'producer-perf') return ['--bootstrap-server', BOOTSTRAP, ...args];
  const at = args.indexOf('--producer-props');
  if (at < 0) return [...args, '--producer-props', `bootstrap.servers=${BOOTSTRAP}`];
  return [...args.slice(0, at + 1), `bootstrap.servers=${BOOTSTRAP}`, ...args.slice(at + 1)];
}

/** Runs one of Kafka's tools with the user's arguments, defaulting the bootstrap server to ours. */
function tool(name: string, args: string[]): void {
  const mainClass = TOOLS[name];
  if (mainClass === undefined) usage(`unknown command: ${name}`);
  ensureJars();
  writeConfigs();
  const full = withBootstrap(name, args);
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
