import { z } from 'zod';
import { d } from '../core/describe.ts';
import type { Alert } from '../detect/alert.ts';
import { isUpdate } from '../detect/coalesce.ts';
import type { AlertOutputComponent, AlertOutputDefinition } from './alert-output.ts';

/** Its keys of the `alerts:` section. */
export const consoleAlertConfig = z
  .object({
    console: d(z.boolean().default(false), 'Print [ALERT] lines in the threat-analyzer style'),
    console_updates: d(
      z.boolean().default(false),
      'Also print [UPDATE] lines when an alert folds more events (default: new alerts only)',
    ),
  })
  .strict();

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
): AlertOutputComponent {
  const stream = options.stream ?? process.stdout;
  let stopped = false;
  return {
    name: 'alert_console',
    async start() {},
    async healthcheck() {
      if (stopped) return { ok: false, detail: 'stopped' };
      return 'destroyed' in stream && stream.destroyed
        ? { ok: false, detail: 'stream closed' }
        : { ok: true };
    },
    async flush() {
      if ('writableNeedDrain' in stream && stream.writableNeedDrain)
        await new Promise<void>((resolve) => stream.once('drain', resolve));
    },
    async write(alerts) {
      let text = '';
      for (const a of alerts) {
        if (!isUpdate(a)) text += `${formatAlertLine(a)}\n`;
        else if (options.updates) text += `${formatAlertLine(a).replace('[ALERT]', '[UPDATE]')}\n`;
      }
      if (text === '') return;
      if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
    },
    async stop() {
      stopped = true;
    },
  };
}

export const consoleAlertOutput: AlertOutputDefinition<z.infer<typeof consoleAlertConfig>> = {
  type: 'console',
  kind: 'alert_output',
  section: 'alerts',
  summary: 'Prints [ALERT] lines (and [UPDATE] lines when asked) in the threat-analyzer style',
  config: consoleAlertConfig,
  example: { console: true },
  wanted: (config) => config.console,
  create: (config, ctx) =>
    createConsoleAlertOutput({
      ...(ctx.console ? { stream: ctx.console } : {}),
      updates: config.console_updates,
    }),
};
