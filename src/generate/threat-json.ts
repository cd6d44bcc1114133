import { isoTime } from './time-format.ts';
import type { GeneratedItem } from './types.ts';

/**
 * The threat-analyzer seed's `threat-events` (seeds/001):
 * `{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}`. The seed has no time
 * field; we add `"timestamp"` (ISO 8601 UTC) last so replays detect on event time. Parsers that
 * ignore it still see the seed's three keys.
 */
export type ThreatSeverity = 'low' | 'medium' | 'high' | 'critical';

export function threatJsonLine(
  timeMs: number,
  host: string,
  threat: string,
  severity: ThreatSeverity,
): GeneratedItem {
  const line = `{"host": ${JSON.stringify(host)}, "threat": ${JSON.stringify(threat)}, "severity": "${severity}", "timestamp": "${isoTime(timeMs)}"}`;
  return { format: 'threat-json', line, logTypeHint: 'threat', timeMs, key: host };
}
