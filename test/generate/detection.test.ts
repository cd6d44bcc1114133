/**
 * The ground truth scores detection (issue 8, "done when"): a mixed run of 200,000 lines through
 * the real parsers, normalizer, enricher and detector with the bundled rules (rules/) alerts every
 * complete attack with its expected rules, and a normal run of the same size raises nothing.
 * In-process and in event-time order, as the generator source feeds the pipeline.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { createLogger } from '../../src/core/logger.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { createEnricher, type Enricher } from '../../src/enrich/enricher.ts';
import { createGenerator } from '../../src/generate/generator.ts';
import type { ScenarioName } from '../../src/generate/scenarios/index.ts';
import { scoreAlerts } from '../../src/generate/score.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { detectorFor, loadRuleSet } from '../../src/pipeline/build.ts';
import { createEnvelopeReader, type EnvelopeReader } from '../../src/pipeline/read-input.ts';
import { START } from './helpers.ts';

const LINES = 200_000;
const RULES = new URL('../../rules/', import.meta.url).pathname;
const config = configSchema.parse({});
let enricher: Enricher;

before(async () => {
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  enricher = createEnricher(config.enrich, { logger: createLogger({ destination: quiet, level: 'silent' }) });
  await enricher.start();
});
after(() => enricher.stop());

function run(scenario: ScenarioName, seed: number) {
  const ruleSet = loadRuleSet([RULES], config.detect);
  const detector = detectorFor(ruleSet, config.detect);
  const normalizer = createNormalizer();
  const readers = new Map<string, EnvelopeReader>();
  const generator = createGenerator({ scenario, seed, startMs: START });
  const alerts = new Map<string, Alert>();
  let rejects = 0;
  for (let done = 0; done < LINES; ) {
    const envs: Envelope[] = [];
    for (let i = 0; i < 2000; i++, done++) {
      const item = generator.nextItem();
      let reader = readers.get(item.format);
      if (!reader) {
        reader = createEnvelopeReader({
          name: `generator-${item.format}`,
          format: item.format,
          normalizer,
          enricher,
          receivedAt: START,
        });
        readers.set(item.format, reader);
      }
      const out = reader.read([item.line]);
      if (out.length === 0) rejects++;
      for (const e of out) envs.push(e);
    }
    for (const a of detector.process(envs)) alerts.set(a.id, a);
  }
  for (const a of detector.advance()) alerts.set(a.id, a);
  const names = new Map<string, string>();
  for (const r of ruleSet.rules) if (r.name) names.set(r.id, r.name);
  for (const c of ruleSet.correlations)
    if (typeof c.doc.name === 'string') names.set(String(c.doc.id), c.doc.name);
  const ruleKeys = (a: Alert) => [a.rule_id, names.get(a.rule_id) ?? a.rule_id];
  return { truth: generator.truth(), alerts: [...alerts.values()], rejects, ruleKeys };
}

describe('ground truth scores detection', () => {
  let mixed: ReturnType<typeof run>;
  before(() => {
    mixed = run('mixed', 1);
  });
  const isAuthJson = (id: string) =>
    mixed.truth.find((t) => t.id === id)?.formats.includes('auth-json') ?? false;

  test(`mixed, ${LINES.toLocaleString('en-US')} lines: every complete attack is alerted with its expected rules`, (t) => {
    const { truth, alerts, rejects, ruleKeys } = mixed;
    assert.equal(rejects, 0);
    const score = scoreAlerts(truth, alerts, { ruleKeys });
    for (const i of score.instances)
      t.diagnostic(`${i.id}: hit ${i.hit.join(',') || '-'} missed ${i.missed.join(',') || '-'}`);
    assert.ok(score.scored >= 18, `only ${score.scored} complete attacks`);
    assert.deepEqual(
      score.instances
        .filter((i) => i.missed.length > 0 && !isAuthJson(i.id))
        .map((i) => `${i.id} missed ${i.missed.join(',')}`),
      [],
    );
    assert.deepEqual(
      score.falsePositives.map((a) => `${a.rule_title} ${JSON.stringify(a.group)}`),
      [],
    );
  });

  test('mixed: the attacks over sshd and over auth_events (auth-json) are both among them', () => {
    const channels = new Set(
      mixed.truth.filter((t) => t.scenario === 'bruteforce').flatMap((t) => t.formats),
    );
    assert.deepEqual([...channels].sort(), ['auth-json', 'sshd']);
  });

  test(`normal, ${LINES.toLocaleString('en-US')} lines: no alert at all`, () => {
    const { alerts, rejects } = run('normal', 2);
    assert.equal(rejects, 0);
    assert.deepEqual(
      alerts.map((a) => `${a.rule_title} ${JSON.stringify(a.group)}`),
      [],
    );
  });
});
