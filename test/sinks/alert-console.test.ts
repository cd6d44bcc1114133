import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Alert } from '../../src/detect/alert.ts';
import { createConsoleAlertOutput, formatAlertLine } from '../../src/sinks/alert-console.ts';

function alert(over: Partial<Alert>): Alert {
  return {
    id: 'a',
    rule_id: 'r',
    rule_title: 'Endpoint threat, severity high',
    level: 'high',
    tags: [],
    group: {},
    entity: null,
    count: 1,
    first_seen: 0,
    last_seen: 0,
    event_ids: [],
    summary: '',
    status: 'new',
    assignee: null,
    created_at: 0,
    ...over,
  };
}

test('threat events print exactly as the threat-analyzer seed did', () => {
  assert.equal(
    formatAlertLine(alert({ group: { host: 'endpoint01', threat: 'malware.exe' } })),
    '[ALERT] Host: endpoint01 | Threat: malware.exe | Severity: HIGH',
  );
  assert.equal(
    formatAlertLine(alert({ level: 'critical', group: { host: 'endpoint03', threat: 'exploit_attempt' } })),
    '[ALERT] Host: endpoint03 | Threat: exploit_attempt | Severity: CRITICAL',
  );
});

test('other alerts: labelled group fields, the rule title as the threat, the count', () => {
  assert.equal(
    formatAlertLine(
      alert({
        rule_title: 'Vertical port scan',
        level: 'medium',
        count: 24,
        group: { src_ip: '10.0.0.9', dst_ip: '10.0.0.1' },
      }),
    ),
    '[ALERT] Source: 10.0.0.9 | Target: 10.0.0.1 | Threat: Vertical port scan | Severity: MEDIUM | Count: 24',
  );
});

test('the console output writes one line per alert', async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c) => {
    text += c;
  });
  const out = createConsoleAlertOutput({ stream });
  await out.write([alert({ group: { host: 'h1' } }), alert({ group: { host: 'h2' } })]);
  await out.stop();
  assert.equal(text.split('\n').filter(Boolean).length, 2);
  assert.match(text, /^\[ALERT\] Host: h1 \| Threat: Endpoint threat, severity high \| Severity: HIGH\n/);
});
