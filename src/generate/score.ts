import type { Alert } from '../detect/alert.ts';
import type { TruthRecord } from './generator.ts';

/**
 * Scores alerts against the generator's ground truth (docs/generator.md), for tests and the demo.
 * An alert belongs to an attack instance when one of its group values (or its entity) is one of
 * the instance's entities — attacker address/host/user, or an attacked account (account-grouped
 * rules) — and its event-time span overlaps the instance's, give or take `slackMs` (windows close
 * after the last event). An instance is detected when every expected rule has such an alert;
 * an alert that belongs to no instance is a false positive.
 */
export interface InstanceScore {
  id: string;
  scenario: string;
  /** Expected rule names/ids that raised an alert for this instance. */
  hit: string[];
  /** Expected rule names/ids that did not. */
  missed: string[];
  /** Other rules that alerted on this instance (true positives beyond the expectation). */
  extra: string[];
}

export interface Score {
  instances: InstanceScore[];
  detected: number;
  /** Complete instances with expected rules. */
  scored: number;
  falsePositives: Alert[];
}

function entitiesOf(t: TruthRecord): Set<string> {
  const s = new Set<string>();
  if (t.attacker.src_ip) s.add(t.attacker.src_ip);
  if (t.attacker.host) s.add(t.attacker.host);
  if (t.attacker.user) s.add(t.attacker.user);
  for (const u of t.targets.users) s.add(u);
  return s;
}

function alertValues(a: Alert): string[] {
  const values = Object.values(a.group);
  if (a.entity !== null) values.push(a.entity);
  return values;
}

/**
 * `ruleKeys(alert)` gives the names an alert's rule is known by (its id, and its Sigma `name`):
 * expected rules are written as names where the rule has one.
 */
export function scoreAlerts(
  truth: readonly TruthRecord[],
  alerts: readonly Alert[],
  options: { ruleKeys?: (alert: Alert) => string[]; slackMs?: number } = {},
): Score {
  const slack = options.slackMs ?? 10 * 60_000;
  const keysOf = options.ruleKeys ?? ((a: Alert) => [a.rule_id]);
  const claimed = new Set<Alert>();
  const instances: InstanceScore[] = [];
  let detected = 0;
  let scored = 0;
  for (const t of truth) {
    const entities = entitiesOf(t);
    const mine = alerts.filter(
      (a) =>
        alertValues(a).some((v) => entities.has(v)) &&
        a.last_seen >= t.start_ms - slack &&
        a.first_seen <= t.end_ms + slack,
    );
    for (const a of mine) claimed.add(a);
    const raised = new Set(mine.flatMap(keysOf));
    const hit = t.expected_rules.filter((r) => raised.has(r));
    const missed = t.expected_rules.filter((r) => !raised.has(r));
    const expected = new Set(t.expected_rules);
    const extra = [
      ...new Set(mine.filter((a) => !keysOf(a).some((k) => expected.has(k))).map((a) => a.rule_title)),
    ];
    instances.push({ id: t.id, scenario: t.scenario, hit, missed, extra });
    if (t.complete && t.expected_rules.length > 0) {
      scored++;
      if (missed.length === 0) detected++;
    }
  }
  return { instances, detected, scored, falsePositives: alerts.filter((a) => !claimed.has(a)) };
}
