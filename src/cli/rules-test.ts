import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { type Config, enrichSchema } from '../config/schema.ts';
import { RuleInvalidError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import type { Alert } from '../detect/alert.ts';
import type { RuleSet } from '../detect/sigma/load.ts';
import type { LogsourceFlags } from '../detect/sigma/options.ts';
import { createEnricher } from '../enrich/enricher.ts';
import { createNormalizer, type Normalizer } from '../normalize/normalize.ts';
import { detectorFor, loadRuleSet } from '../pipeline/build.ts';
import { createEnvelopeReader, readLines } from '../pipeline/read-input.ts';

/**
 * `socstream rules test DIR`: every rule file `DIR/<name>.yml` ships `DIR/fixtures/<name>/` with
 * `positive.<ext>` and/or `negative.<ext>` and `fixture.json` ({format, positive, negative}: the
 * format and where the lines come from). Each alerting rule of the file must fire on the positive
 * lines and none may fire on the negative ones; a fixture with only negative lines (a rule that
 * must stay quiet on some traffic) or only positive lines checks that half. The whole folder is loaded so rules may reference rules of
 * other files (the success-after-brute-force chain does).
 */
export const fixtureMetaSchema = z
  .object({
    format: z.string(),
    ioc: z
      .array(z.string())
      .default([])
      .describe('IOC list files (relative to the fixture folder) loaded into the enricher for this fixture'),
    positive: z.string().optional().describe('Origin of the positive lines (when there are any)'),
    negative: z.string().optional().describe('Origin of the negative lines (when there are any)'),
  })
  .strict();

export type FixtureMeta = z.infer<typeof fixtureMetaSchema>;

export interface FixtureOutcome {
  ruleFile: string;
  name: string;
  /** Rules of this file that raise alerts. */
  ruleIds: string[];
  positive: Record<string, number>;
  negative: Record<string, number>;
  failures: string[];
}

const RULE_FILE = /\.ya?ml$/;

function fixtureFile(dir: string, kind: 'positive' | 'negative'): string | undefined {
  if (!existsSync(dir)) return undefined;
  const f = readdirSync(dir).find((n) => n.startsWith(`${kind}.`));
  return f ? join(dir, f) : undefined;
}

async function run(
  ruleSet: RuleSet,
  detect: Config['detect'],
  normalizer: Normalizer,
  file: string,
  meta: FixtureMeta,
  fixtureDir: string,
): Promise<{ alerts: Alert[]; alerting: ReadonlySet<string> }> {
  const detector = detectorFor(ruleSet, detect);
  // The enrichment the pipeline applies, with the fixture's own IOC lists.
  const enrich = enrichSchema.parse({
    ioc: meta.ioc.map((path, i) => ({ name: `fixture-${i}`, path: join(fixtureDir, path) })),
  });
  const enricher = createEnricher(enrich, { logger: createLogger({ level: 'silent' }) });
  await enricher.start();
  try {
    // A fixed receive time keeps year inference (syslog lines carry no year) reproducible.
    const reader = createEnvelopeReader({
      name: file,
      format: meta.format,
      normalizer,
      enricher,
      receivedAt: Date.UTC(2026, 0, 1),
    });
    const alerts = [...detector.process(reader.read(readLines(file))), ...detector.advance()];
    return { alerts, alerting: detector.alertingRuleIds() };
  } finally {
    await enricher.stop();
  }
}

function countByRule(alerts: readonly Alert[], ids: ReadonlySet<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts) if (ids.has(a.rule_id)) out[a.rule_id] = (out[a.rule_id] ?? 0) + 1;
  return out;
}

/** Ids defined in one rule file (single-event rules and correlations). */
function idsOfFile(ruleSet: RuleSet, file: string, alerting: ReadonlySet<string>): string[] {
  const ids = ruleSet.rules.filter((r) => r.file === file).map((r) => r.id);
  for (const c of ruleSet.correlations) {
    if (c.file === file && typeof c.doc.id === 'string') ids.push(c.doc.id);
  }
  return ids.filter((id) => alerting.has(id));
}

export async function runRuleFixtures(
  dir: string,
  detect: Config['detect'],
  flags: LogsourceFlags = {},
): Promise<FixtureOutcome[]> {
  const root = resolve(dir);
  if (!statSync(root).isDirectory()) throw new RuleInvalidError(`${dir} is not a folder`);
  const ruleSet = loadRuleSet([root], detect, flags);
  const normalizer = createNormalizer();
  const outcomes: FixtureOutcome[] = [];
  for (const entry of readdirSync(root)
    .filter((n) => RULE_FILE.test(n))
    .sort()) {
    const ruleFile = join(root, entry);
    const name = basename(entry).replace(RULE_FILE, '');
    const fixDir = join(root, 'fixtures', name);
    const outcome: FixtureOutcome = { ruleFile, name, ruleIds: [], positive: {}, negative: {}, failures: [] };
    outcomes.push(outcome);
    const metaPath = join(fixDir, 'fixture.json');
    const pos = fixtureFile(fixDir, 'positive');
    const neg = fixtureFile(fixDir, 'negative');
    if (!existsSync(metaPath) || (!pos && !neg)) {
      outcome.failures.push(`missing fixtures: need ${fixDir}/fixture.json and positive.* and/or negative.*`);
      continue;
    }
    const meta = fixtureMetaSchema.safeParse(JSON.parse(readFileSync(metaPath, 'utf8')));
    if (!meta.success) {
      outcome.failures.push(
        `${metaPath}: ${meta.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
      continue;
    }
    const p = pos ? await run(ruleSet, detect, normalizer, pos, meta.data, fixDir) : undefined;
    const n = neg ? await run(ruleSet, detect, normalizer, neg, meta.data, fixDir) : undefined;
    const ids = idsOfFile(ruleSet, ruleFile, (p ?? n)!.alerting);
    outcome.ruleIds = ids;
    if (ids.length === 0)
      outcome.failures.push('no alerting rule in this file (did it load? see `socstream rules check`)');
    const idSet = new Set(ids);
    outcome.positive = p ? countByRule(p.alerts, idSet) : {};
    outcome.negative = n ? countByRule(n.alerts, idSet) : {};
    for (const id of ids) {
      if (pos && !outcome.positive[id]) outcome.failures.push(`rule ${id} did not fire on ${pos}`);
      if (outcome.negative[id]) outcome.failures.push(`rule ${id} fired ${outcome.negative[id]}× on ${neg}`);
    }
  }
  return outcomes;
}

export function formatOutcomes(outcomes: readonly FixtureOutcome[]): string {
  const lines = outcomes.map((o) => {
    const fired = Object.values(o.positive).reduce((a, b) => a + b, 0);
    const head = `${o.failures.length === 0 ? 'PASS' : 'FAIL'} ${o.name}: positive ${fired} alert(s), negative ${Object.values(o.negative).reduce((a, b) => a + b, 0)}`;
    return [head, ...o.failures.map((f) => `     ${f}`)].join('\n');
  });
  const failed = outcomes.filter((o) => o.failures.length > 0).length;
  lines.push(`${outcomes.length - failed}/${outcomes.length} rule files pass their fixtures`);
  return `${lines.join('\n')}\n`;
}
