import assert from 'node:assert/strict';
import { test } from 'node:test';
import { suricataEve } from '../../src/parsers/suricata-eve.ts';
import { feed, one, verdict } from './helpers.ts';

test('log type is the event_type, nested objects kept, +0100 offset honoured', () => {
  const r = one(
    feed(suricataEve, [
      '{"timestamp":"2017-01-30T16:12:26.985026+0100","flow_id":955054024165314,"event_type":"dns","src_ip":"172.17.0.2","dns":{"type":"query","rrname":"example.com"}}',
    ])[0],
  );
  assert.equal(r.source, 'suricata');
  assert.equal(r.log_type, 'dns');
  assert.equal(r.eventTimeMs, Date.UTC(2017, 0, 30, 15, 12, 26, 985));
  assert.deepEqual(r.raw.dns, { type: 'query', rrname: 'example.com' });
});

test('every EVE event type is accepted as its own log type', () => {
  const types = [
    'alert',
    'anomaly',
    'flow',
    'netflow',
    'dns',
    'http',
    'tls',
    'ssh',
    'fileinfo',
    'smtp',
    'smb',
    'dhcp',
    'krb5',
    'rdp',
    'quic',
    'mqtt',
    'pgsql',
    'stats',
    'drop',
  ];
  const lines = types.map((t) =>
    JSON.stringify({ timestamp: '2024-05-01T10:00:00.000000+0000', event_type: t }),
  );
  assert.deepEqual(
    feed(suricataEve, lines).map((r) => one(r).log_type),
    types,
  );
});

test('rejects: garbage after the timestamp, a missing event_type, truncated JSON', () => {
  assert.deepEqual(
    feed(suricataEve, [
      '{"timestamp":"2017-01-30T16:12:26.985026+0100asloefbnjhowebfg","event_type":"dns"}',
      '{"timestamp":"2017-01-30T16:12:26.985026+0100"}',
      '{"timestamp":"2017-03-06T06:54:10',
    ]).map(verdict),
    ['bad_timestamp', 'missing_field', 'invalid_json'],
  );
});
