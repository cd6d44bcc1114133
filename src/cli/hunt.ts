import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import type { Envelope } from '../core/envelope.ts';
import { UsageError } from '../core/errors.ts';
import type { Alert } from '../detect/alert.ts';
import { createAlertCoalescer } from '../detect/coalesce.ts';
import { summarizeWarnings } from '../detect/sigma/load.ts';
import { collectFlag, type LogsourceFlags } from '../detect/sigma/options.ts';
import { LakeQuery } from '../lake/query.ts';
import { createAlertStore } from '../pipeline/alerts.ts';
import { detectorFor, loadRuleSet } from '../pipeline/build.ts';
import { buildLakeSchema, type Column } from '../sinks/parquet/schema.ts';
import { lakeDir } from '../sinks/parquet/sink.ts';
import { checkLakeDir } from './inputs.ts';
import { action } from './run-action.ts';

/**
 * `socstream hunt --rules DIR --lake DIR [--since 7d | --from T --to T]`: runs rules and
 * correlations over the lake's history with the same engine as the stream (the same loader,
 * detector, correlation windows and alert builder), reading the events back in event-time order,
 * so a new rule is tried on last week before it is deployed. Alerts as NDJSON on stdout (raised
 * once, updates coalesced as the stream's outputs do), progress on stderr.
 *
 * The envelope is rebuilt from the lake's columns (docs/lake.md "Columns"): `raw` from its JSON
 * text, the canonical normalized and enriched fields from their columns, the fields outside the
 * dictionary (`extra`) into `normalized`.
 */

const PAGE_ROWS = 5000;
const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `12h`, `30m` → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

/** The event-time range [from, to) the flags ask for; usage errors name the flag. */
export function huntRange(
  flags: { since?: string; from?: string; to?: string },
  nowMs: number,
): [number, number] {
  const time = (flag: string, v: string): number => {
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isNaN(ms)) throw new UsageError(`--${flag} ${v}: not a time (ISO-8601 or epoch ms)`);
    return ms;
  };
  if (flags.since !== undefined) {
    if (flags.from !== undefined) throw new UsageError('--since and --from exclude each other');
    const d = parseDuration(flags.since);
    if (d === undefined)
      throw new UsageError(`--since ${flags.since}: expected a duration such as 7d, 12h, 30m`);
    return [nowMs - d, flags.to !== undefined ? time('to', flags.to) : nowMs + 1];
  }
  const from = flags.from !== undefined ? time('from', flags.from) : Number.NEGATIVE_INFINITY;
  const to = flags.to !== undefined ? time('to', flags.to) : Number.POSITIVE_INFINITY;
  if (from >= to) throw new UsageError(`--from must be before --to`);
  return [from, to];
}

/** SELECT list: timestamps as epoch ms, everything else as stored. */
function selectList(columns: readonly Column[]): string {
  return columns
    .map((c) => (c.kind === 'timestamp' ? `epoch_ms("${c.name}") AS "${c.name}"` : `"${c.name}"`))
    .join(', ');
}

/** One lake row → the envelope the stream detected on. */
export function envelopeFromRow(columns: readonly Column[], row: readonly unknown[]): Envelope {
  const env: Envelope = { id: '', source: '', log_type: '', raw: {}, normalized: {}, enriched: {} };
  columns.forEach((c, i) => {
    const v = row[i];
    if (v === null || v === undefined) return;
    switch (c.from) {
      case 'id':
      case 'source':
      case 'log_type':
        env[c.from] = String(v);
        return;
      case 'raw':
        env.raw = JSON.parse(String(v)) as Record<string, unknown>;
        return;
      case 'extra':
        Object.assign(env.normalized, JSON.parse(String(v)) as Record<string, unknown>);
        return;
      default: {
        const value = c.kind === 'json' && typeof v === 'string' ? JSON.parse(v) : v;
        (c.from === 'normalized' ? env.normalized : env.enriched)[c.key] = value;
      }
    }
  });
  return env;
}

export interface HuntFlags extends LogsourceFlags {
  rules: string[];
  lake?: string;
  since?: string;
  from?: string;
  to?: string;
  config?: string;
  /** Rows per lake query (default 5,000). */
  pageRows?: number;
  /** Upsert the alerts into the configured alert store too. */
  store?: boolean;
}

export interface HuntReport {
  events: number;
  alerts: number;
  summary: string;
}

/** Pages of envelopes in event-time order (keyset pagination on event_time, id). */
async function* lakeEvents(
  lake: LakeQuery,
  from: number,
  to: number,
  pageRows: number,
): AsyncGenerator<Envelope[]> {
  const { columns } = buildLakeSchema();
  const select = selectList(columns);
  const lo = Number.isFinite(from) ? `epoch_ms(event_time) >= ${Math.trunc(from)}` : 'TRUE';
  const hi = Number.isFinite(to) ? `epoch_ms(event_time) < ${Math.trunc(to)}` : 'TRUE';
  let after = '';
  for (;;) {
    const sql = `SELECT ${select} FROM events WHERE ${lo} AND ${hi}${after} ORDER BY event_time, id LIMIT ${pageRows}`;
    const page = await lake.query(sql, { maxRows: pageRows, timeoutMs: 600_000 });
    if (page.rows.length === 0) return;
    const envs = page.rows.map((r) => envelopeFromRow(columns, r));
    yield envs;
    if (page.rows.length < pageRows) return;
    const last = envs[envs.length - 1];
    const t = Number(last.normalized.event_time);
    const id = last.id.replaceAll("'", "''");
    after = ` AND (epoch_ms(event_time) > ${t} OR (epoch_ms(event_time) = ${t} AND id > '${id}'))`;
  }
}

export async function runHunt(
  flags: HuntFlags,
  write: (alert: Alert) => void,
  progress: (line: string) => void = () => {},
  nowMs = Date.now(),
): Promise<HuntReport> {
  const config = loadConfig(flags.config);
  const [from, to] = huntRange(flags, nowMs);
  const dir = flags.lake ?? lakeDir(config.lake);
  checkLakeDir(dir, flags.lake ? '--lake' : 'lake.dir');
  const ruleSet = loadRuleSet(flags.rules, config.detect, flags);
  for (const w of summarizeWarnings(ruleSet.warnings)) progress(`hunt: warning: ${w.message}`);
  const detector = detectorFor(ruleSet, config.detect);
  const coalescer = createAlertCoalescer({ intervalMs: config.alerts.update_interval_seconds * 1000 });
  const lake = await LakeQuery.open({ lakeDir: dir });
  try {
    if (!lake.views().includes('events'))
      throw new UsageError(`--lake ${dir}: no Parquet files in this lake`);
    return await huntLake(
      lake,
      [from, to],
      { ruleSet, detector, coalescer, dir, pageRows: flags.pageRows ?? PAGE_ROWS },
      write,
      progress,
    );
  } finally {
    lake.close();
  }
}

async function huntLake(
  lake: LakeQuery,
  [from, to]: [number, number],
  parts: {
    ruleSet: ReturnType<typeof loadRuleSet>;
    detector: ReturnType<typeof detectorFor>;
    coalescer: ReturnType<typeof createAlertCoalescer>;
    dir: string;
    pageRows: number;
  },
  write: (alert: Alert) => void,
  progress: (line: string) => void,
): Promise<HuntReport> {
  const { ruleSet, detector, coalescer, dir } = parts;
  let events = 0;
  let alerts = 0;
  const emit = (list: readonly Alert[]) => {
    for (const a of coalescer.offer(list)) {
      alerts++;
      write(a);
    }
  };
  let lastReport = performance.now();
  for await (const page of lakeEvents(lake, from, to, parts.pageRows)) {
    events += page.length;
    emit(detector.process(page));
    if (performance.now() - lastReport > 1000) {
      lastReport = performance.now();
      const t = page[page.length - 1].normalized.event_time;
      progress(`hunt: ${events} events, up to ${new Date(Number(t)).toISOString()}, ${alerts} alerts`);
    }
  }
  emit(detector.advance());
  for (const a of coalescer.flush()) {
    alerts++;
    write(a);
  }
  const s = detector.stats();
  return {
    events,
    alerts,
    summary:
      `hunt: ${events} events from ${dir}; ${ruleSet.rules.length} rules + ${ruleSet.correlations.length} correlations; ` +
      `${s.ruleMatches} rule matches, ${s.alertsRaised} alerts raised, ${s.alertsUpdated} updates\n`,
  };
}

export function register(program: Command): void {
  program
    .command('hunt')
    .description('Run Sigma rules and correlations over the lake history; alerts as NDJSON on stdout')
    .requiredOption('--rules <dir>', 'Folder or file of Sigma rules (repeatable)', collectFlag)
    .option('--lake <dir>', 'The lake (default: lake.dir of the config)')
    .option('--since <duration>', 'Events of the last 7d, 12h, 30m, ...')
    .option('--from <time>', 'Events at or after this time (ISO-8601 or epoch ms)')
    .option('--to <time>', 'Events before this time')
    .option('--config <file>', 'socstream.yaml (detect, alerts, lake and alert_store sections are used)')
    .option('--store', 'Also upsert the alerts into the alert store of the config')
    .option(
      '--logsource <spec>',
      'Add a Sigma logsource: product=NAME@SOURCE[/LOG_TYPE] (repeatable)',
      collectFlag,
    )
    .option('--field-map <map>', 'Sigma field name → event path for --logsource (repeatable)', collectFlag)
    .action(
      action(async (flags: HuntFlags) => {
        const config = loadConfig(flags.config);
        const store = flags.store ? createAlertStore(config.alert_store, config.data_dir) : undefined;
        await store?.start();
        const pending: Alert[] = [];
        try {
          const report = await runHunt(
            flags,
            (a) => {
              process.stdout.write(`${JSON.stringify(a)}\n`);
              if (store) pending.push(a);
            },
            (line) => process.stderr.write(`${line}\n`),
          );
          // Upserts are idempotent by id: the latest state of each alert wins.
          await store?.upsert(pending);
          process.stderr.write(report.summary);
        } finally {
          await store?.close();
        }
        return 0;
      }),
    );
}
