import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import type { Config } from '../config/schema.ts';
import { NotFoundError, UsageError } from '../core/errors.ts';
import { quoteIdent, sqlString } from '../core/sql.ts';
import { ALERT_STATUSES, type Alert, LEVELS } from '../detect/alert.ts';
import { listRuleFiles } from '../detect/sigma/load.ts';
import { ENRICHED_FIELDS, NORMALIZED_FIELDS } from '../normalize/fields.ts';
import type { AlertStore } from '../sinks/alert-store.ts';
import type { LakeAccess } from './lake-access.ts';
import { eventPredicates, partitionPrune, timeRange } from './lake-sql.ts';

/**
 * The routes behind the dashboard's pivots (issue 17), kept apart from the core API in app.ts:
 * the log types the lake holds, one event with its raw / normalized / enriched layers, the top
 * external sources, alerts grouped by rule or entity, and a rule's own text. Every value that
 * reaches SQL is quoted (sqlString) or a checked number.
 */
/** What these routes need of the app's dependencies (app.ts ServeDeps). */
interface Deps {
  config: Config['serve'];
  alerts: AlertStore;
  lake: LakeAccess;
  rulePaths?: readonly string[];
}

/** How many alerts a grouping reads at most (newest first); the answer says when it stopped. */
export const MAX_GROUPED_ALERTS = 5000;
const GROUP_PAGE = 1000;
const HOUR_MS = 3_600_000;

function timeOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n))
    throw new UsageError(`${name}: expected epoch milliseconds or ISO 8601, got "${value}"`);
  return n;
}

function listOf<T extends string>(
  v: string | undefined,
  allowed: readonly T[],
  name: string,
): T[] | undefined {
  if (!v) return undefined;
  const items = v.split(',').filter(Boolean) as T[];
  for (const i of items) if (!allowed.includes(i)) throw new UsageError(`${name}: unknown value "${i}"`);
  return items;
}

function rows(result: { columns: { name: string }[]; rows: unknown[][] }): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

/** One lake row into the event's layers: the raw JSON as parsed, the normalized and enriched fields. */
export function eventLayers(row: Record<string, unknown>): {
  id: string;
  log_type: string;
  source: string;
  event_time: number;
  raw: unknown;
  normalized: Record<string, unknown>;
  enriched: Record<string, unknown>;
  extra: unknown;
} {
  const normalized: Record<string, unknown> = {};
  const enriched: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    if (k === 'event_time') normalized[k] = row.event_time_ms;
    else if (k === 'ingest_time') normalized[k] = row.ingest_time_ms ?? v;
    else if (k in NORMALIZED_FIELDS) normalized[k] = v;
    else if (k in ENRICHED_FIELDS) enriched[k] = v;
  }
  const parse = (v: unknown) => {
    if (typeof v !== 'string') return v ?? null;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  };
  return {
    id: String(row.id),
    log_type: String(row.log_type),
    source: String(row.source ?? ''),
    event_time: Number(row.event_time_ms),
    raw: parse(row.raw),
    normalized,
    enriched,
    extra: parse(row.extra),
  };
}

export interface HistogramFilter {
  from: number;
  to: number;
  bucketSeconds: number;
  src_ip?: string;
  dst_ip?: string;
  user?: string;
  q?: string;
}

/**
 * Events per bucket over [from, to] with the filters of GET /api/events (eventPredicates).
 */
export function histogramSql(f: HistogramFilter, view: string): string {
  const where = [...timeRange(f.from, f.to), ...eventPredicates(f)];
  const bucket = `epoch_ms(time_bucket(INTERVAL '${Math.trunc(f.bucketSeconds)} seconds', event_time))`;
  return `SELECT ${bucket} AS t, count(*) AS n FROM ${quoteIdent(view)} WHERE ${where.join(' AND ')} GROUP BY ALL ORDER BY t`;
}

/** /api/stats's events per bucket and log type summed per bucket (of one log type, if given). */
export function perBucket(
  byType: ReadonlyArray<Record<string, unknown>>,
  logType: string | undefined,
): Array<{ t: number; n: number }> {
  const sums = new Map<number, number>();
  for (const r of byType) {
    if (logType !== undefined && r.log_type !== logType) continue;
    sums.set(Number(r.t), (sums.get(Number(r.t)) ?? 0) + Number(r.n));
  }
  return [...sums].sort((a, b) => a[0] - b[0]).map(([t, n]) => ({ t, n }));
}

export interface AlertGroup {
  key: string;
  /** The rule's title (by rule) or the entity's kind: src_ip, user, host… (by entity). */
  label: string;
  alerts: number;
  /** Events folded into the group's alerts. */
  events: number;
  max_level: Alert['level'];
  last_seen: number;
  /** Alerts still new (untriaged). */
  open: number;
}

/** Alerts → one row per rule or entity, most severe first, then most alerts. Pure. */
export function groupAlerts(alerts: readonly Alert[], by: 'rule' | 'entity'): AlertGroup[] {
  const groups = new Map<string, AlertGroup>();
  for (const a of alerts) {
    const key = by === 'rule' ? a.rule_id : (a.entity ?? '(none)');
    const label =
      by === 'rule'
        ? a.rule_title
        : (Object.entries(a.group).find(([, v]) => v === a.entity)?.[0] ?? 'entity');
    const g = groups.get(key) ?? {
      key,
      label,
      alerts: 0,
      events: 0,
      max_level: a.level,
      last_seen: a.last_seen,
      open: 0,
    };
    g.alerts++;
    g.events += a.count;
    if (LEVELS.indexOf(a.level) > LEVELS.indexOf(g.max_level)) g.max_level = a.level;
    g.last_seen = Math.max(g.last_seen, a.last_seen);
    if (a.status === 'new') g.open++;
    groups.set(key, g);
  }
  return [...groups.values()].sort(
    (x, y) =>
      LEVELS.indexOf(y.max_level) - LEVELS.indexOf(x.max_level) ||
      y.alerts - x.alerts ||
      y.last_seen - x.last_seen,
  );
}

/**
 * Alerts per bucket of their first_seen (event time, like the events chart) and level: rows of
 * (bucket start ms, level, n), oldest first. Pure.
 */
export function alertTimeline(
  alerts: readonly Alert[],
  from: number,
  bucketSeconds: number,
): Array<{ t: number; level: Alert['level']; n: number }> {
  const bucketMs = bucketSeconds * 1000;
  const counts = new Map<string, { t: number; level: Alert['level']; n: number }>();
  for (const a of alerts) {
    const t = from + Math.floor((Math.max(a.first_seen, from) - from) / bucketMs) * bucketMs;
    const key = `${t}|${a.level}`;
    const row = counts.get(key) ?? { t, level: a.level, n: 0 };
    row.n++;
    counts.set(key, row);
  }
  return [...counts.values()].sort((x, y) => x.t - y.t || LEVELS.indexOf(y.level) - LEVELS.indexOf(x.level));
}

async function listAlerts(
  deps: Deps,
  filter: Parameters<Deps['alerts']['list']>[0],
): Promise<{ alerts: Alert[]; truncated: boolean }> {
  const alerts: Alert[] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.alerts.list({ ...filter, limit: GROUP_PAGE, cursor });
    alerts.push(...page.alerts);
    cursor = page.next_cursor;
  } while (cursor && alerts.length < MAX_GROUPED_ALERTS);
  return { alerts, truncated: cursor !== null };
}

/** The rule document (or correlation) with this id under the rule paths, with its file's text. */
export function findRule(
  paths: readonly string[],
  id: string,
): { doc: Record<string, unknown>; file: string; yaml: string } | null {
  for (const file of listRuleFiles(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (!text.includes(id)) continue;
    const docs = parseAllDocuments(text);
    for (const d of Array.isArray(docs) ? docs : [docs]) {
      const doc = d.toJS() as Record<string, unknown> | null;
      if (doc && (doc.id === id || doc.name === id)) return { doc, file, yaml: String(d) };
    }
  }
  return null;
}

/** The rule's test lines: `fixtures/<rule file name>/` beside the rule (rules/fixtures/SOURCES.md). */
export function ruleFixtures(file: string): Array<{ name: string; text: string }> {
  const dir = join(dirname(file), 'fixtures', basename(file, extname(file)));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8').slice(0, 20_000) }));
}

/** `attack.t1110.001` → T1110.001 with its MITRE page; other tags are left out. */
export function attackTechniques(tags: readonly string[]): Array<{ id: string; url: string }> {
  const out: Array<{ id: string; url: string }> = [];
  for (const tag of tags) {
    const m = /^attack\.t(\d{4})(?:\.(\d{3}))?$/i.exec(tag);
    if (!m) continue;
    out.push({
      id: `T${m[1]}${m[2] ? `.${m[2]}` : ''}`,
      url: `https://attack.mitre.org/techniques/T${m[1]}/${m[2] ? `${m[2]}/` : ''}`,
    });
  }
  return out;
}

export function registerAnalystRoutes(app: FastifyInstance, deps: Deps): void {
  const timeoutMs = deps.config.query_timeout_ms;

  app.get(
    '/api/log-types',
    {
      config: { role: 'viewer' },
      schema: { summary: 'The log types the lake holds (the events filter values)' },
    },
    async () => ({ log_types: (await deps.lake.views()).filter((v) => v !== 'events').sort() }),
  );

  app.get<{ Params: { id: string }; Querystring: { t?: string } }>(
    '/api/events/:id',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          'One event with its raw, normalized and enriched layers; t (event time, ms) narrows the search to its hour',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { t: { type: 'string', description: 'the event time, epoch ms, if known' } },
        },
      },
    },
    async (req) => {
      if (!(await deps.lake.views()).includes('events')) throw new NotFoundError(`no event ${req.params.id}`);
      const t = timeOf(req.query.t, 't');
      const where = [
        ...(t === undefined ? [] : partitionPrune(t - HOUR_MS, t + HOUR_MS)),
        `id = ${sqlString(req.params.id)}`,
      ];
      const sqlFor = (source: string) =>
        `SELECT *, epoch_ms(event_time) AS event_time_ms, epoch_ms(ingest_time) AS ingest_time_ms FROM ${source} WHERE ${where.join(' AND ')} LIMIT 1`;
      // With its time: the files of the hours around it only; without, the whole lake's view.
      const [row] = rows(
        t === undefined
          ? await deps.lake.query(sqlFor('events'), { timeoutMs, maxRows: 1 })
          : await deps.lake.queryFiles({ from: t - HOUR_MS, to: t + HOUR_MS }, sqlFor, {
              timeoutMs,
              maxRows: 1,
            }),
      );
      if (!row) throw new NotFoundError(`no event ${req.params.id}`);
      return eventLayers(row);
    },
  );

  app.get<{
    Querystring: {
      from?: string;
      to?: string;
      bucket_seconds?: number;
      log_type?: string;
      src_ip?: string;
      dst_ip?: string;
      user?: string;
      q?: string;
    };
  }>(
    '/api/events/histogram',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'How many events match the filters of GET /api/events, per time bucket over the range',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', description: 'epoch ms or ISO 8601; default: an hour before to' },
            to: { type: 'string', description: 'epoch ms or ISO 8601; default: now' },
            bucket_seconds: { type: 'integer', minimum: 1, maximum: 86_400 },
            log_type: { type: 'string', pattern: '^[a-z0-9_]+$' },
            src_ip: { type: 'string', maxLength: 64 },
            dst_ip: { type: 'string', maxLength: 64 },
            user: { type: 'string', maxLength: 256 },
            q: { type: 'string', maxLength: 256 },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const to = timeOf(q.to, 'to') ?? Date.now();
      const from = timeOf(q.from, 'from') ?? to - HOUR_MS;
      if (from >= to) throw new UsageError('from: must be before to');
      // About 60 buckets over the range unless asked otherwise.
      const bucketSeconds = q.bucket_seconds ?? Math.max(1, Math.ceil((to - from) / 60_000));
      const view = q.log_type ?? 'events';
      const views = await deps.lake.views();
      if (!views.includes(view)) {
        if (view === 'events') return { from, to, bucket_seconds: bucketSeconds, buckets: [] };
        throw new UsageError(`log_type "${q.log_type}" has no data; known: ${views.join(', ')}`);
      }
      // Without field filters, in whole minutes: the per-minute counts /api/stats reads (the
      // rollups of compacted hours, a scan of the rest) answer it, not a scan of the range.
      if (!(q.src_ip || q.dst_ip || q.user || q.q) && bucketSeconds % 60 === 0) {
        const stats = await deps.lake.stats({ from, to, bucketSeconds }, { timeoutMs });
        return { from, to, bucket_seconds: bucketSeconds, buckets: perBucket(stats.by_type, q.log_type) };
      }
      const sql = histogramSql(
        { from, to, bucketSeconds, src_ip: q.src_ip, dst_ip: q.dst_ip, user: q.user, q: q.q },
        view,
      );
      const buckets = rows(await deps.lake.query(sql, { timeoutMs })).map((r) => ({
        t: Number(r.t),
        n: Number(r.n),
      }));
      return { from, to, bucket_seconds: bucketSeconds, buckets };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; scope?: 'external' | 'all'; limit?: number } }>(
    '/api/stats/sources',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          'Top source addresses: scope=external (default) counts only events from outside the home networks (direction inbound or external, or a source outside the home networks / private ranges)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            scope: { type: 'string', enum: ['external', 'all'], default: 'external' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
          },
        },
      },
    },
    async (req) => {
      const to = timeOf(req.query.to, 'to') ?? Date.now();
      const from = timeOf(req.query.from, 'from') ?? to - HOUR_MS;
      if (!(await deps.lake.views()).includes('events')) return { from, to, sources: [] };
      const limit = req.query.limit ?? 10;
      // From outside (externalSourceSql): the rollups' per-hour pairs answer the whole hours and
      // days of the range, a scan the rest (src/lake/rollup.ts).
      if ((req.query.scope ?? 'external') === 'external')
        return { from, to, sources: await deps.lake.externalSources({ from, to, limit }, { timeoutMs }) };
      const where = [...timeRange(from, to), 'src_ip IS NOT NULL'];
      const sql = `SELECT src_ip AS ip, count(*) AS n, count(DISTINCT ${quoteIdent('dst_ip')}) AS targets FROM events WHERE ${where.join(' AND ')} GROUP BY ALL ORDER BY n DESC, ip LIMIT ${limit}`;
      const sources = rows(await deps.lake.query(sql, { timeoutMs })).map((r) => ({
        ip: String(r.ip),
        n: Number(r.n),
        targets: Number(r.targets),
      }));
      return { from, to, sources };
    },
  );

  app.get<{
    Querystring: { by: 'rule' | 'entity'; from?: string; to?: string; status?: string; level?: string };
  }>(
    '/api/alerts/groups',
    {
      config: { role: 'viewer' },
      schema: {
        summary: `Alerts grouped by rule or by entity with counts, most severe first (reads the newest ${MAX_GROUPED_ALERTS} alerts at most)`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['by'],
          properties: {
            by: { type: 'string', enum: ['rule', 'entity'] },
            from: { type: 'string' },
            to: { type: 'string' },
            status: { type: 'string', description: `comma-separated: ${ALERT_STATUSES.join(', ')}` },
            level: { type: 'string', description: `comma-separated: ${LEVELS.join(', ')}` },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        status: listOf(q.status, ALERT_STATUSES, 'status'),
        level: listOf(q.level, LEVELS, 'level'),
        from: timeOf(q.from, 'from'),
        to: timeOf(q.to, 'to'),
      };
      const { alerts, truncated } = await listAlerts(deps, filter);
      return { by: q.by, groups: groupAlerts(alerts, q.by), alerts: alerts.length, truncated };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; bucket_seconds?: number } }>(
    '/api/alerts/timeline',
    {
      config: { role: 'viewer' },
      schema: {
        summary: `Alerts over time: per bucket of first_seen and level (reads the newest ${MAX_GROUPED_ALERTS} alerts at most)`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', description: 'epoch ms or ISO 8601; default: an hour before to' },
            to: { type: 'string', description: 'epoch ms or ISO 8601; default: now' },
            bucket_seconds: { type: 'integer', minimum: 1, maximum: 86_400 },
          },
        },
      },
    },
    async (req) => {
      const to = timeOf(req.query.to, 'to') ?? Date.now();
      const from = timeOf(req.query.from, 'from') ?? to - HOUR_MS;
      if (from >= to) throw new UsageError('from: must be before to');
      const bucketSeconds = req.query.bucket_seconds ?? Math.max(1, Math.ceil((to - from) / 60_000));
      const { alerts, truncated } = await listAlerts(deps, { from, to });
      return {
        from,
        to,
        bucket_seconds: bucketSeconds,
        rows: alertTimeline(alerts, from, bucketSeconds),
        truncated,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/rules/:id',
    {
      config: { role: 'viewer' },
      schema: {
        summary:
          'A detection rule by id: title, description, level, ATT&CK techniques, references and its YAML',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 256 } } },
      },
    },
    async (req) => {
      const found = deps.rulePaths ? findRule(deps.rulePaths, req.params.id) : null;
      if (!found) throw new NotFoundError(`no rule ${req.params.id} under the configured rule paths`);
      const { doc, file, yaml } = found;
      const tags = Array.isArray(doc.tags) ? doc.tags.map(String) : [];
      const str = (v: unknown) => (typeof v === 'string' ? v : null);
      const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
      return {
        id: req.params.id,
        title: str(doc.title),
        description: str(doc.description),
        level: str(doc.level),
        status: str(doc.status),
        author: str(doc.author),
        kind: doc.correlation ? 'correlation' : 'rule',
        tags,
        attack: attackTechniques(tags),
        references: list(doc.references),
        falsepositives: list(doc.falsepositives),
        file,
        yaml,
        fixtures: ruleFixtures(file),
      };
    },
  );
}
