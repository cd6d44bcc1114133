import { type LogsourceTable, loadLogsourceTable, logsourceKey } from '../detect/sigma/logsources.ts';
import { findRule } from './analyst-routes.ts';

/**
 * The log types a rule's events can have, from its logsource (a correlation: the union of the rules
 * it references), or null when that is not known for certain: no rule file, a logsource the bundled
 * table lacks (socstream.yaml may add it), an event kind without a log type (every log type of a
 * source), a reference not found. Only a hint: the alert page first looks up an alert's events in
 * these log types' files and reads the others only when some id was not found there, so a wrong or
 * stale hint costs time, never a missing event.
 */
export function ruleLogTypes(
  rulePaths: readonly string[],
  ruleId: string,
  table: LogsourceTable = bundledTable(),
): string[] | null {
  const types = new Set<string>();
  const seen = new Set<string>();
  const visit = (id: string, depth: number): boolean => {
    if (seen.has(id)) return true;
    seen.add(id);
    if (depth > 8) return false;
    const found = findRule(rulePaths, id);
    if (!found) return false;
    const { doc } = found;
    const correlation = doc.correlation as { rules?: unknown } | undefined;
    if (correlation) {
      const refs = Array.isArray(correlation.rules) ? correlation.rules.map(String) : [];
      return refs.length > 0 && refs.every((ref) => visit(ref, depth + 1));
    }
    const logsource = doc.logsource as Record<string, unknown> | undefined;
    if (!logsource || typeof logsource !== 'object') return false;
    const key = logsourceKey(logsource as { product?: string; category?: string; service?: string });
    const entry = table.logsources.find((e) => logsourceKey(e.logsource) === key);
    if (!entry) return false;
    for (const ev of entry.events) {
      if (!ev.log_type) return false;
      types.add(ev.log_type);
    }
    return true;
  };
  return visit(ruleId, 0) && types.size > 0 ? [...types].sort() : null;
}

let table: LogsourceTable | undefined;
function bundledTable(): LogsourceTable {
  table ??= loadLogsourceTable();
  return table;
}

/** ruleLogTypes remembered per rule for a minute (a hint: a stale one only costs a second read). */
export function createRuleLogTypesCache(
  rulePaths: readonly string[] | undefined,
  now: () => number = Date.now,
  ttlMs = 60_000,
): (ruleId: string) => string[] | null {
  const cache = new Map<string, { at: number; types: string[] | null }>();
  return (ruleId) => {
    if (!rulePaths) return null;
    const hit = cache.get(ruleId);
    if (hit && now() - hit.at < ttlMs) return hit.types;
    let types: string[] | null;
    try {
      types = ruleLogTypes(rulePaths, ruleId);
    } catch {
      types = null;
    }
    if (cache.size >= 1000) cache.clear();
    cache.set(ruleId, { at: now(), types });
    return types;
  };
}
