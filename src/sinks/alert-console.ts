import type { Alert } from '../detect/alert.ts';
import { isUpdate } from '../detect/coalesce.ts';
import type { AlertOutput } from './alert-output.ts';

/**
 * The threat-analyzer seed's console output, `[ALERT] Host: endpoint01 | Threat: malware.exe |
 * Severity: HIGH`, generalized: the alert's group fields with readable labels (host first), the
 * threat name or else the rule title, the level, and the count once an alert folds several events.
 */
const LABELS: Readonly<Record<string, string>> = {
  host: 'Host',
  src_ip: 'Source',
  dst_ip: 'Target',
  dst_port: 'Port',
  user: 'User',
};

export function formatAlertLine(alert: Alert): string {
  const parts: string[] = [];
  const { group } = alert;
  if (group.host !== undefined) parts.push(`Host: ${group.host}`);
  for (const key in group) {
    if (key === 'host' || key === 'threat') continue;
    parts.push(`${LABELS[key] ?? key}: ${group[key]}`);
  }
  parts.push(`Threat: ${group.threat ?? alert.rule_title}`);
  parts.push(`Severity: ${alert.level.toUpperCase()}`);
  if (alert.count > 1) parts.push(`Count: ${alert.count}`);
  return `[ALERT] ${parts.join(' | ')}`;
}

/** Console: new alerts; updates (marked by the coalescer, src/detect/coalesce.ts) only when asked. */
export function createConsoleAlertOutput(
  options: { stream?: NodeJS.WritableStream; updates?: boolean } = {},
): AlertOutput {
  const stream = options.stream ?? process.stdout;
  return {
    name: 'alert_console',
    async write(alerts) {
      let text = '';
      for (const a of alerts) {
        if (!isUpdate(a)) text += `${formatAlertLine(a)}\n`;
        else if (options.updates) text += `${formatAlertLine(a).replace('[ALERT]', '[UPDATE]')}\n`;
      }
      if (text === '') return;
      if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
    },
    async stop() {},
  };
}
