/**
 * Conformance over the registries (STYLE.md): EVERY registered component of every kind (sources,
 * parsers, transforms, sinks, alert outputs, alert stores, dead-letter outputs) has a summary,
 * rejects unknown config keys, validates its example config, documents every config key, opens
 * nothing in create(), and runs start → healthcheck → flush → stop in order on real parts (tmp
 * dirs, the real broker at 127.0.0.1:9092, PostgreSQL at 127.0.0.1:5432 db `test`), after which
 * it holds no handle. The config sections assembled from a registry hold exactly its keys.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { kafkaSchema, topicsSchema } from '../src/bus/bus-schema.ts';
import { KafkaBus } from '../src/bus/kafka.ts';
import { REGISTRIES } from '../src/components.ts';
import { COMPONENT_SECTIONS } from '../src/config/schema.ts';
import { type AnyDefinition, COMPONENT_KINDS, type ComponentContext } from '../src/core/component.ts';
import { createLogger } from '../src/core/logger.ts';
import { createTelemetry } from '../src/core/telemetry.ts';
import type { AlertStoreContext } from '../src/sinks/alert-store.ts';

const definitions: AnyDefinition[] = COMPONENT_KINDS.flatMap((kind) => REGISTRIES[kind].all());
const PG_URL = process.env.SOCSTREAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RULES = new URL('../rules', import.meta.url).pathname;

function context(dataDir: string): ComponentContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return {
    logger: createLogger({ destination: sink, level: 'silent' }),
    telemetry: createTelemetry({ defaultMetrics: false }),
    dataDir,
    console: sink,
  };
}

/** Active handles other than the test runner's own (timers, sockets, file handles). */
function handles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
}

/** Lets callbacks of earlier work (closing sockets, DuckDB's file probes) settle. */
const settle = () => new Promise((r) => setTimeout(r, 100));

/**
 * The keys of a schema that carry no docs string, as paths. A key holding an object is documented
 * by its own keys; `type` discriminators are documented by their section (sources[].type, dlq.type).
 */
function undocumented(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: string[] = [];
  if (json.type === 'array' && json.description === undefined) out.push('(the list)');
  walk(json.type === 'array' && json.items ? json.items : json, '', out);
  return out;
}

interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

function walk(s: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (key === 'type' && prefix === '') continue;
    if (child.type === 'object' && child.properties) walk(child, path, out);
    else if (child.description === undefined) out.push(path);
    else if (child.type === 'array' && child.items?.properties) walk(child.items, `${path}[]`, out);
  }
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A Kafka bus on the real broker with a fresh topic, closed by the caller (or the test's end). */
async function kafkaWithTopic(t: TestContext): Promise<{ bus: KafkaBus; topic: string }> {
  const bus = new KafkaBus(kafkaSchema.parse({ client_id: 'socstream-conformance' }));
  t.after(() => bus.close());
  const topic = unique('conformance');
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  return { bus, topic };
}

interface Setup {
  config: unknown;
  ctx?: Partial<AlertStoreContext>;
  /** Runs after stop() and before the handle count (closes what the test opened: a bus). */
  release?: () => Promise<void>;
  cleanup?: () => Promise<void>;
}

/** The config and real parts each component runs its lifecycle on. */
async function setup(def: AnyDefinition, dir: string, t: TestContext): Promise<Setup> {
  const id = `${def.kind}/${def.type}`;
  switch (id) {
    case 'source/file':
      return { config: { type: 'file', paths: [join(dir, '*.log')] } };
    case 'source/syslog_udp':
    case 'source/syslog_tcp':
    case 'source/http':
      return { config: { type: def.type, host: '127.0.0.1', port: 0 } };
    case 'source/kafka':
    case 'alert_output/kafka':
    case 'dlq/kafka': {
      const { bus, topic } = await kafkaWithTopic(t);
      const topics = { ...topicsSchema.parse({}), alerts: topic, dlq: topic };
      return {
        config:
          def.kind === 'source' ? { type: 'kafka', topics: [topic], group: unique('conf') } : def.example,
        ctx: { bus, topics },
        release: async () => {
          await bus.deleteTopics([topic]);
          await bus.close();
        },
      };
    }
    case 'transform/detect':
      return { config: { rules: [RULES] } };
    case 'sink/lake':
      return { config: { dir: join(dir, 'lake') } };
    case 'alert_store/sqlite':
      return { config: { sqlite_path: join(dir, 'alerts.db') } };
    case 'alert_store/postgres': {
      const schema = unique('socstream_conformance').replace('-', '_');
      return {
        config: { postgres_url: PG_URL },
        ctx: { postgresSchema: schema },
        cleanup: async () => {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
        },
      };
    }
    case 'dlq/file':
      return { config: { type: 'file', path: join(dir, 'dlq.ndjson') } };
    default:
      return { config: def.example ?? {} };
  }
}

test('every kind has a registry with at least one component', () => {
  for (const kind of COMPONENT_KINDS) {
    assert.ok(REGISTRIES[kind].all().length > 0, `no ${kind} registered`);
    for (const def of REGISTRIES[kind].all())
      assert.equal(def.kind, kind, `${def.type} in the ${kind} registry`);
  }
});

test('the assembled sections hold exactly their registry’s keys, plus the frame', () => {
  for (const [name, section] of Object.entries(COMPONENT_SECTIONS)) {
    const keys = new Set<string>(section.frame);
    for (const def of section.registry.all()) {
      assert.ok(def.config instanceof z.ZodObject, `${name}: ${def.type}'s config is an object`);
      assert.equal(def.section, name, `${def.type} says its section`);
      for (const key of Object.keys(def.config.shape)) keys.add(key);
    }
    assert.deepEqual(Object.keys(section.schema.shape).sort(), [...keys].sort(), name);
    const typeKey = section.schema.shape as Record<string, z.ZodType>;
    if ('type' in typeKey) {
      const parsed = section.schema.parse({}) as { type: string };
      assert.equal(parsed.type, section.registry.types()[0], `${name}.type defaults to the first registered`);
    }
  }
});

for (const def of definitions) {
  const name = `${def.kind} ${def.type}`;

  test(`${name}: has a summary and a config-shaped type`, () => {
    // Parsers keep their --format names (zeek-tsv); everything else is snake_case as in config.
    assert.match(def.type, def.kind === 'parser' ? /^[a-z][a-z0-9-]*$/ : /^[a-z][a-z0-9_]*$/);
    assert.ok(def.summary.length > 10);
  });

  test(`${name}: its example config validates`, () => {
    const r = def.config.safeParse(def.example ?? {});
    assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
  });

  test(`${name}: every config key has a description`, () => {
    assert.deepEqual(undocumented(def.config), [], 'keys without .describe()');
  });

  if (def.config instanceof z.ZodObject)
    test(`${name}: an unknown key is rejected`, () => {
      const r = def.config.safeParse({ ...(def.example as object), no_such_key_xyz: 1 });
      assert.equal(r.success, false);
    });

  test(`${name}: create() opens nothing`, async () => {
    await settle();
    const before = handles().length;
    const dir = mkdtempSync(join(tmpdir(), 'socstream-conformance-'));
    try {
      const ctx = context(dir);
      def.create(def.config.parse(def.example ?? {}), { ...ctx, topics: topicsSchema.parse({}) });
      await new Promise((r) => setImmediate(r));
      assert.ok(handles().length <= before, `handles after create: ${handles().join(',')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: start, healthcheck, flush, stop in order; stop releases every handle`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'socstream-conformance-'));
    await settle();
    const before = handles();
    const s = await setup(def, dir, t);
    try {
      const instance = def.create(def.config.parse(s.config), { ...context(dir), ...s.ctx });
      await instance.start();
      const health = await instance.healthcheck();
      assert.equal(health.ok, true, `healthcheck after start: ${health.detail}`);
      await instance.flush();
      await instance.stop();
      await s.release?.();
      await settle();
      const after = handles();
      assert.ok(
        after.length <= before.length,
        `handles before: ${before.join(',')}\nhandles after stop: ${after.join(',')}`,
      );
    } finally {
      await s.cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
