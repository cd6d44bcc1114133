import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuleInvalidError } from '../../../src/core/errors.ts';
import {
  compilePath,
  createLogsourceIndex,
  loadLogsourceTable,
  logsourceTableSchema,
} from '../../../src/detect/sigma/logsources.ts';
import { envelope, suricataEvents, zeekEvents } from './helpers.ts';

test('paths: a literal dotted key (Zeek id.orig_h) first, then nested objects, arrays element-wise', () => {
  const [dns] = zeekEvents('zeek-dns.ndjson');
  assert.equal(compilePath('raw.id.orig_h')(dns), '10.47.1.100');
  const [eve] = suricataEvents('suricata-dns.ndjson');
  assert.equal(compilePath('raw.dns.rrname')(eve), '_http._tcp.security.debian.org');
  const answers = envelope('suricata', 'dns', {
    dns: { answers: [{ rdata: 'a.example' }, { rdata: '1.2.3.4' }] },
  });
  assert.deepEqual(compilePath('raw.dns.answers.rdata')(answers), ['a.example', '1.2.3.4']);
  assert.equal(compilePath('raw.missing.deep')(answers), undefined);
  assert.equal(compilePath('normalized.src_ip')(envelope('x', 'y', {}, { src_ip: '10.0.0.1' })), '10.0.0.1');
});

test('paths of two parts: an array in the middle is read element-wise, a scalar or null ends the path', () => {
  const eve = envelope('suricata', 'dns', {
    answers: [{ rdata: 'a.example' }, { other: 1 }, { rdata: '1.2.3.4' }],
    proto: 'TCP',
    alert: null,
    'flat.key': 'flat wins',
    flat: { key: 'nested' },
  });
  assert.deepEqual(compilePath('raw.answers.rdata')(eve), ['a.example', '1.2.3.4']);
  assert.equal(compilePath('raw.proto.name')(eve), undefined);
  assert.equal(compilePath('raw.alert.signature')(eve), undefined);
  assert.equal(compilePath('raw.flat.key')(eve), 'flat wins');
  assert.equal(compilePath('enriched.ioc.indicator')(eve), undefined);
});

test('the bundled table validates and covers the logsources the issue names', () => {
  const index = createLogsourceIndex(loadLogsourceTable());
  const kinds = (ls: Record<string, string>) =>
    index.variants(ls).map((v) => `${v.source}/${v.logType ?? '*'}`);
  for (const service of [
    'conn',
    'dns',
    'http',
    'ssl',
    'x509',
    'smb_files',
    'dce_rpc',
    'rdp',
    'kerberos',
    'ntlm',
  ]) {
    assert.deepEqual(kinds({ product: 'zeek', service }), [`zeek/${service}`]);
  }
  assert.deepEqual(kinds({ category: 'dns' }), ['zeek/dns', 'suricata/dns']);
  assert.deepEqual(kinds({ category: 'firewall' }), ['zeek/conn', 'suricata/flow']);
  assert.deepEqual(kinds({ category: 'proxy' }), ['zeek/http', 'suricata/http']);
  assert.deepEqual(kinds({ category: 'webserver' }), ['nginx/*']);
  assert.deepEqual(kinds({ product: 'linux', service: 'sshd' }), ['sshd/*']);
  assert.deepEqual(kinds({ product: 'suricata', service: 'alert' }), ['suricata/alert']);
  // Exact match on product/category/service, case-insensitive; windows has no events here.
  assert.deepEqual(kinds({ product: 'Zeek', service: 'DNS' }), ['zeek/dns']);
  assert.deepEqual(kinds({ product: 'windows', category: 'process_creation' }), []);
  assert.deepEqual(kinds({ product: 'linux', category: 'process_creation' }), []);
});

test('field maps: W3C names reach Zeek http fields; unmapped names fall back per the entry', () => {
  const index = createLogsourceIndex(loadLogsourceTable());
  const [proxy] = index.variants({ category: 'proxy' });
  const [http] = zeekEvents('zeek-http.ndjson');
  assert.equal(proxy.scope.field('c-useragent')(http), 'Wget/1.14 (darwin12.2.0)');
  assert.equal(proxy.scope.field('cs-method')(http), 'GET');
  assert.equal(proxy.scope.field('resp_mime_types')(http), http.raw.resp_mime_types, 'unmapped → raw');
  // nginx: canonical normalized field first, the parser's raw name as fallback.
  const [web] = index.variants({ category: 'webserver' });
  const onlyRaw = envelope('nginx', 'access', { request_method: 'POST' });
  assert.equal(web.scope.field('cs-method')(onlyRaw), 'POST');
  assert.equal(
    web.scope.field('cs-method')(
      envelope('nginx', 'access', { request_method: 'POST' }, { http_method: 'PUT' }),
    ),
    'PUT',
  );
  // Zeek entries read raw before normalized: a canonical `service` must not shadow Zeek's own.
  const [krb] = index.variants({ product: 'zeek', service: 'kerberos' });
  const k = envelope('zeek', 'kerberos', { service: 'krbtgt/NM' }, { service: 'kerberos' });
  assert.equal(krb.scope.field('service')(k), 'krbtgt/NM');
});

test('a bad table is a SOC_RULE_INVALID error naming the file and the path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'logsources-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'logsources:\n  - logsource: {category: dns}\n    events: [{source: zeek, fields: {query: query}}]\n',
  );
  assert.throws(
    () => loadLogsourceTable(bad),
    (err: unknown) => {
      assert.ok(err instanceof RuleInvalidError);
      assert.match(err.message, /bad\.yaml: logsources\.0\.events\.0\.fields/);
      return true;
    },
  );
  const unknownSet = join(dir, 'unknown.yaml');
  writeFileSync(
    unknownSet,
    'logsources:\n  - logsource: {category: dns}\n    events: [{source: zeek, fields: nope}]\n',
  );
  assert.throws(() => loadLogsourceTable(unknownSet), /unknown fieldset 'nope'/);
  assert.equal(logsourceTableSchema.safeParse({ logsources: [], extra: 1 }).success, false);
});
