import type { Alert } from '../../src/detect/alert.ts';
import type { TruthRecord } from '../../src/generate/generator.ts';

/**
 * Scores alerts against the generator's ground truth: an expected rule counts as detected when an
 * alert of that rule names the attacker (in its group or entity) and overlaps the attack in event
 * time (with slack for windows that close after the last event).
 */
export interface Miss {
  attack: string;
  scenario: string;
  rule: string;
  attacker: string;
}

export function scoreAlerts(
  truth: readonly TruthRecord[],
  alerts: readonly Alert[],
  ruleIdsByName: ReadonlyMap<string, string>,
  slackMs = 15 * 60_000,
): { expected: number; detected: number; misses: Miss[] } {
  const misses: Miss[] = [];
  let expected = 0;
  for (const t of truth) {
    if (!t.complete) continue;
    // An alert names the attacker (by source) or the attacked account (brute force on one account).
    const who = [t.attacker.src_ip, t.attacker.user, t.attacker.host, ...t.targets.users].filter(
      (x): x is string => !!x,
    );
    for (const rule of t.expected_rules) {
      expected++;
      const id = ruleIdsByName.get(rule) ?? rule;
      const hit = alerts.some(
        (a) =>
          a.rule_id === id &&
          (who.includes(a.entity ?? '') || Object.values(a.group).some((v) => who.includes(v))) &&
          a.last_seen >= t.start_ms - slackMs &&
          a.first_seen <= t.end_ms + slackMs,
      );
      if (!hit) misses.push({ attack: t.id, scenario: t.scenario, rule, attacker: who.join('/') });
    }
  }
  return { expected, detected: expected - misses.length, misses };
}

/** Sigma `name` → `id` for rules and correlation rules (alerts carry ids, ground truth names). */
export function ruleIdsByName(ruleSet: {
  rules: ReadonlyArray<{ id: string; name?: string }>;
  correlations: ReadonlyArray<{ doc: Record<string, unknown> }>;
}): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of ruleSet.rules) if (r.name) out.set(r.name, r.id);
  for (const c of ruleSet.correlations) {
    if (typeof c.doc.name === 'string' && typeof c.doc.id === 'string') out.set(c.doc.name, c.doc.id);
  }
  return out;
}
