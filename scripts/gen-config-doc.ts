/**
 * Generates docs/config.md from the assembled zod schema (src/config/schema.ts, built from the
 * component definitions registered in src/components.ts), so every key is documented: the key
 * table, then one table per component kind, with the keys of each source and parser, which the
 * key table cannot show (sources[] entries and parsers.settings are checked per type).
 * `node scripts/gen-config-doc.ts` rewrites the file; test/scripts/gen-config-doc.test.ts fails
 * when it is stale. The explanatory text lives here, as the intro and the kinds' intros.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { REGISTRIES } from '../src/components.ts';
import { configSchema } from '../src/config/schema.ts';
import { type AnyDefinition, COMPONENT_KINDS, type ComponentKind } from '../src/core/component.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object')
    return `map of ${typeOf(s.additionalProperties)}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const def = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``;
    const isObject = child.type === 'object' && child.properties;
    const isObjectList = child.type === 'array' && child.items?.properties;
    // An object or a list of objects gets its own row below, then one row per key inside.
    if (!isObject && !isObjectList)
      out.push(
        `| \`${path}\` | ${typeOf(child)} | ${def.length > 80 ? '(see below)' : def} | ${child.description ?? ''} |`,
      );
    if (isObject) rows(child, path, out);
    if (isObjectList && child.items) {
      out.push(`| \`${path}\` | list of objects | ${def} | ${child.description ?? ''} |`);
      rows(child.items, `${path}[]`, out);
    }
  }
}

/** Each kind's heading and what to know about it. */
const KIND_INTRO: Record<ComponentKind, { title: string; intro: string }> = {
  source: {
    title: 'Sources',
    intro:
      "Each `sources[]` entry names its `type`; its other keys are that type's, checked when the config is loaded (docs/sources.md explains each source).",
  },
  parser: {
    title: 'Parsers (formats)',
    intro:
      "A stream's format is told from its data or named by a source's `format`; `parsers.settings.<format>` holds the settings of the formats that take any (docs/parsers.md).",
  },
  transform: {
    title: 'Transforms',
    intro: 'The stages between parsing and the outputs, in the order an event meets them.',
  },
  sink: { title: 'Sinks', intro: 'Where events are stored.' },
  alert_output: {
    title: 'Alert outputs',
    intro: 'Every output that `alerts:` asks for receives every alert (new, then coalesced updates).',
  },
  alert_store: {
    title: 'Alert stores',
    intro: '`alert_store.type` picks one; the API and the console read and triage alerts there.',
  },
  dlq: { title: 'Dead-letter outputs', intro: '`dlq.type` picks one; it receives every rejected record.' },
};

/** The kinds whose keys the key table does not list (sources[] entries, parsers.settings). */
const KEYS_PER_TYPE: ReadonlySet<ComponentKind> = new Set(['source', 'parser']);

function sectionOf(def: AnyDefinition): string {
  return def.section ?? 'sources[]';
}

function componentTables(): string {
  const parts: string[] = [];
  for (const kind of COMPONENT_KINDS) {
    const { title, intro } = KIND_INTRO[kind];
    const defs = REGISTRIES[kind].all();
    const list = defs.map((d) => `| \`${d.type}\` | \`${sectionOf(d)}\` | ${d.summary} |`).join('\n');
    parts.push(`### ${title}\n\n${intro}\n\n| type | section | what it does |\n|---|---|---|\n${list}`);
    if (!KEYS_PER_TYPE.has(kind)) continue;
    for (const def of defs) {
      const schema = z.toJSONSchema(def.config, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      const out: string[] = [];
      rows(schema, '', out);
      const keys = out.filter((r) => !r.startsWith('| `type` '));
      if (keys.length === 0) continue;
      parts.push(
        `#### \`${def.type}\` (\`${sectionOf(def)}\`)\n\n| key | type | default | meaning |\n|---|---|---|---|\n${keys.join('\n')}`,
      );
    }
  }
  return parts.join('\n\n');
}

export function renderConfigDoc(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: string[] = [];
  rows(schema, '', out);
  return `# Configuration reference

<!-- Generated by \`node scripts/gen-config-doc.ts\` from src/config/schema.ts, which is assembled from the components registered in src/components.ts. Do not edit by hand. -->

socstream reads one YAML file (\`socstream run --config socstream.yaml\`). Every key is optional;
the defaults run the embedded pipeline. Unknown keys are errors: the message names the file, the
key path, what was expected and the fix, and the command exits with code 2.

Any key can be overridden from the environment: \`SOCSTREAM_\` + the path in upper case with
\`__\` between levels, the value read as YAML — \`SOCSTREAM_LAKE__FLUSH_EVENT_COUNT=5000\`,
\`SOCSTREAM_BUS__KAFKA__BROKERS='[kafka1:9092, kafka2:9092]'\`. Source entries (\`sources[]\`) are
validated against their own type's keys: see [sources.md](sources.md).

## Every key

| key | type | default | meaning |
|---|---|---|---|
${out.join('\n')}

## Components

Every part of the data path is a registered component (src/components.ts, docs/architecture.md
"Component model"): a type, its config schema beside its code, one lifecycle (start, healthcheck,
flush, stop). The config sections above are assembled from their schemas.

${componentTables()}
`;
}

if (import.meta.main) writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigDoc());
