/**
 * What scripts/kafka.ts (one broker) and scripts/kafka-cluster.ts (three nodes) share: the jars
 * that kafka/pom.xml pulls off Maven Central, the java command line, the log4j configs, KRaft
 * cluster ids, and small process/port probes. No dependencies beyond node:*.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const POM = join(ROOT, 'kafka/pom.xml');
export const HOST = '127.0.0.1';
/** The line KafkaRaftServer logs once the broker serves requests. */
export const STARTED_MARKER = 'Kafka Server started';
export const TOOL_JVM = ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

export function log(message: string): void {
  process.stderr.write(`kafka: ${message}\n`);
}

export function fail(message: string): never {
  log(message);
  process.exit(1);
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
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

export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function fileTail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function pomDigest(): string {
  return createHash('sha256').update(readFileSync(POM)).digest('hex');
}

/** Copies the broker's runtime jars into `lib` once per pom version; Maven caches them in ~/.m2. */
export function ensureJars(lib: string): void {
  const stamp = join(lib, '.pom.sha256');
  const digest = pomDigest();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return;
  if (spawnSync('sh', ['-c', 'command -v mvn'], { stdio: 'ignore' }).status !== 0)
    fail('Maven (mvn) is not installed: it fetches the Kafka jars (Debian: apt-get install -y maven)');
  log(`fetching the Kafka jars with Maven into ${lib} (first run only) ...`);
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib, { recursive: true });
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
      `-DoutputDirectory=${lib}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (mvn.status !== 0) {
    process.stderr.write(`${mvn.stdout}${mvn.stderr}`);
    fail(`mvn dependency:copy-dependencies failed (exit ${mvn.status}); see the output above`);
  }
  writeFileSync(stamp, `${digest}\n`);
  log(`jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The java arguments that run `mainClass` from the jars in `lib`. */
export function javaArgs(
  lib: string,
  logsDir: string,
  mainClass: string,
  args: string[],
  jvm: string[],
  log4j: string,
): string[] {
  return [
    ...jvm,
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${logsDir}`,
    '-cp',
    `${lib}/*`,
    mainClass,
    ...args,
  ];
}

export const BROKER_LOG4J_TEXT = `appender.c.type=Console
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
export const TOOLS_LOG4J_TEXT = `appender.e.type=Console
appender.e.name=STDERR
appender.e.target=SYSTEM_ERR
appender.e.layout.type=PatternLayout
appender.e.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.e.ref=STDERR
`;

/**
 * A cluster id as Kafka's Uuid.randomUuid makes it: 16 random bytes, base64url without padding,
 * never starting with '-' (Kafka rerolls those so the id is not taken for a command-line flag).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id stored in `file`, made and stored on first use. */
export function clusterId(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = newClusterId();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

/** Kafka's command-line tools by the name users type; all take --bootstrap-server in 4.x. */
export const TOOLS: Record<string, string> = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'producer-perf': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf': 'org.apache.kafka.tools.ConsumerPerformance',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
};

/**
 * Adds the bootstrap servers unless the user named some. ProducerPerformance (4.1) has no
 * --bootstrap-server: it takes bootstrap.servers among its --producer-props.
 */
export function withBootstrap(tool: string, args: string[], bootstrap: string): string[] {
  if (args.some((a) => a === '--bootstrap-server' || a.startsWith('--bootstrap-server='))) return args;
  if (args.some((a) => a.startsWith('bootstrap.servers='))) return args;
  if (tool !== 'producer-perf') return ['--bootstrap-server', bootstrap, ...args];
  const at = args.indexOf('--producer-props');
  if (at < 0) return [...args, '--producer-props', `bootstrap.servers=${bootstrap}`];
  return [...args.slice(0, at + 1), `bootstrap.servers=${bootstrap}`, ...args.slice(at + 1)];
}
