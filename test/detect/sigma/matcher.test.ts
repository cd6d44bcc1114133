import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Envelope } from '../../../src/core/envelope.ts';
import { loadRules } from '../../../src/detect/sigma/load.ts';
import { createMatcher } from '../../../src/detect/sigma/matcher.ts';
import { SHARED_DATA } from '../../helpers/shared-data.ts';
import { envelope, nginxEvents, parsedEvents, SIGMA, suricataEvents, zeekEvents } from './helpers.ts';

const set = loadRules([`${SIGMA}/rules/network`, `${SIGMA}/rules/web`, `${SIGMA}/rules/linux`]);
const matcher = createMatcher(set.rules);
const titles = (env: Envelope) => matcher.match(env).map((r) => r.title);

/** A real line with one field changed, to build the attack the capture does not contain. */
function withRaw(env: Envelope, change: Record<string, unknown>): Envelope {
  return { ...env, raw: { ...env.raw, ...change } };
}
function withNormalized(env: Envelope, change: Record<string, unknown>): Envelope {
  return { ...env, normalized: { ...env.normalized, ...change } };
}

describe('SigmaHQ rules/network/zeek on real Zeek lines (WRCCDC 2018)', () => {
  test('the BZAR execution rule fires on the real svcctl CreateServiceW call and not on the others', () => {
    const events = zeekEvents('zeek-dce_rpc.ndjson');
    assert.equal(events[3].raw.operation, 'CreateServiceW');
    assert.deepEqual(titles(events[3]), ['MITRE BZAR Indicators for Execution']);
    for (const e of events.slice(0, 3)) assert.deepEqual(titles(e), [], String(e.raw.operation));
  });

  test('DNS rules: real queries stay silent; a mining-pool query on the same line fires', () => {
    const events = zeekEvents('zeek-dns.ndjson');
    for (const e of events) assert.deepEqual(titles(e), []);
    // Changed field: query (the capture has no mining traffic).
    const mining = withRaw(events[0], { query: 'xmr.pool.minergate.com' });
    assert.deepEqual(titles(mining), ['DNS Events Related To Mining Pools']);
    // The same rule excludes answers it considers sinkholed (exclude_answers: 127.0.0.1 in Zeek's answers vector).
    assert.deepEqual(titles(withRaw(mining, { answers: ['127.0.0.1'] })), []);
    // category: dns rules run on Zeek dns too (rules/network/dns).
    assert.deepEqual(titles(withRaw(events[0], { query: 'api.telegram.org' })), ['Telegram Bot API Request']);
  });

  test('the z-bit rule follows its condition: Z=0 is silent, Z=1 on a normal domain fires, netbios is excluded', () => {
    const [e] = zeekEvents('zeek-dns.ndjson');
    assert.equal(e.raw.Z, 0);
    const zbit = withRaw(e, { Z: 1 });
    assert.ok(
      titles(zbit).some((t) => /Z Flag/i.test(t)),
      titles(zbit).join(),
    );
    assert.deepEqual(titles(withRaw(zbit, { 'id.resp_p': 137 })), []);
  });

  test('smb_files, kerberos, rdp and x509 rules read Zeek raw field names', () => {
    const [smb] = zeekEvents('zeek-smb_files.ndjson');
    assert.deepEqual(titles(smb), []);
    // Changed fields: PsExec's named pipe over IPC$.
    const psexec = withRaw(smb, { path: '\\\\DC01\\IPC$', name: 'RemCom_communicaton-stdin' });
    assert.ok(
      titles(psexec).some((t) => /PsExec/i.test(t)),
      titles(psexec).join(),
    );
    assert.deepEqual(
      titles(withRaw(psexec, { name: 'PSEXESVC-host-stdin' })),
      [],
      'PSEXESVC itself is filtered',
    );

    const [krb] = zeekEvents('zeek-kerberos.ndjson');
    assert.deepEqual(titles(krb), []);
    const rc4 = withRaw(krb, { request_type: 'TGS', cipher: 'rc4-hmac', service: 'MSSQLSvc/db01' });
    assert.ok(
      titles(rc4).some((t) => /RC4/i.test(t)),
      titles(rc4).join(),
    );
    assert.deepEqual(titles(withRaw(rc4, { service: '$DC01' })), [], 'computer accounts are excluded');

    const [rdp] = zeekEvents('zeek-rdp.ndjson');
    assert.deepEqual(titles(rdp), [], 'a private client (10.164.94.120) is not a public listener');
    assert.ok(titles(withRaw(rdp, { 'id.orig_h': '134.71.3.16' })).length === 1);

    const [x509] = zeekEvents('zeek-x509.ndjson');
    assert.deepEqual(titles(x509), []);
    assert.deepEqual(titles(withRaw(x509, { 'certificate.serial': '8bb00ee' })), [
      'Default Cobalt Strike Certificate',
    ]);
  });

  test('http rules map W3C proxy names (c-uri, c-useragent) onto Zeek http fields', () => {
    const [http] = zeekEvents('zeek-http.ndjson');
    assert.deepEqual(titles(http), []);
    const webdav = withRaw(http, {
      user_agent: 'Microsoft-WebDAV-MiniRedir/10.0',
      uri: '/share/payload.exe',
    });
    assert.ok(
      titles(webdav).some((t) => /WebDav/i.test(t)),
      titles(webdav).join(),
    );
  });
});

describe('the whole WRCCDC 2018 Zeek capture (shared/data, ~30 log types, JSON and TSV)', () => {
  test('through the real parsers, only the BZAR execution rule fires: 24 times in JSON and 24 in TSV', () => {
    for (const [folder, format] of [
      ['zeek-json', 'zeek-json'],
      ['zeek-tsv', 'zeek-tsv'],
    ]) {
      const dir = `${SHARED_DATA}/${folder}/wrccdc2018-zeek6.2/`;
      const fired = new Map<string, number>();
      let events = 0;
      for (const f of readdirSync(dir)) {
        for (const e of parsedEvents(format, f, readFileSync(dir + f, 'utf8'))) {
          events++;
          for (const r of matcher.match(e)) fired.set(r.title, (fired.get(r.title) ?? 0) + 1);
        }
      }
      assert.equal(events, 20065, format);
      assert.deepEqual([...fired], [['MITRE BZAR Indicators for Execution', 24]], format);
    }
  });
});

describe('category firewall: verdicts derived from connection state (value maps in logsources.yaml)', () => {
  test('the SigmaHQ cleartext-protocol rule fires on the one completed surevego flow to port 80 (state closed)', () => {
    const file = `${SHARED_DATA}/suricata/surevego/eve.json`;
    const flows = parsedEvents('suricata-eve', 'eve.json', readFileSync(file, 'utf8')).filter(
      (e) => e.log_type === 'flow',
    );
    assert.equal(flows.length, 13);
    const hits = flows.filter((e) => titles(e).includes('Cleartext Protocol Usage'));
    assert.equal(hits.length, 1);
    assert.equal(hits[0].raw.dest_port, 80);
    assert.equal((hits[0].raw.flow as Record<string, unknown>).state, 'closed');
  });

  test('Zeek conn: SF on telnet is accepted and fires; REJ and S0 do not', () => {
    // No real conn.log with usable timestamps is in shared/data: a record with conn.log's fields.
    const conn = (state: string) =>
      envelope('zeek', 'conn', {
        'id.orig_h': '10.0.0.5',
        'id.resp_h': '10.0.0.9',
        'id.resp_p': 23,
        proto: 'tcp',
        conn_state: state,
      });
    assert.deepEqual(titles(conn('SF')), ['Cleartext Protocol Usage']);
    assert.deepEqual(titles(conn('REJ')), []);
    assert.deepEqual(titles(conn('S0')), []);
  });
});

describe('category dns on Suricata EVE', () => {
  test('nested EVE fields (dns.rrname) are found through the field map', () => {
    const events = suricataEvents('suricata-dns.ndjson');
    for (const e of events) assert.deepEqual(titles(e), []);
    const dns = events[0].raw.dns as Record<string, unknown>;
    const evil = { ...events[0], raw: { ...events[0].raw, dns: { ...dns, rrname: 'api.telegram.org' } } };
    assert.deepEqual(titles(evil), ['Telegram Bot API Request']);
  });
});

describe('category webserver on nginx access logs (crowdsec-hub test logs)', () => {
  test('recon user agents fire on the real Nikto lines', () => {
    for (const e of nginxEvents('nginx-bad-user-agent__nginx-bad-user-agent.log')) {
      assert.ok(titles(e).includes('Suspicious User-Agents Related To Recon Tools'));
    }
  });

  test('the SQL injection rule skips the real 404 probes and fires when the server answered 200', () => {
    const probes = nginxEvents('nginx-sqli-probing__nginx-http-sqli-probing.log');
    assert.ok(probes.length >= 10);
    for (const e of probes)
      assert.ok(!titles(e).includes('SQL Injection Strings In URI'), String(e.normalized.url));
    // Changed field: the status (the rule's filter_main_status excludes 404 answers).
    const answered = withNormalized(probes[1], { http_status: 200 });
    assert.ok(titles(answered).includes('SQL Injection Strings In URI'), titles(answered).join());
  });

  test('an event meets only the rules of its kind (logsource index)', () => {
    const [web] = nginxEvents('nginx-xss-probing__nginx-http-xss-probing.log');
    const [dns] = zeekEvents('zeek-dns.ndjson');
    const webRules = matcher.candidates(web);
    const dnsRules = matcher.candidates(dns);
    assert.ok(webRules.length > 0 && dnsRules.length > 0);
    for (const r of webRules)
      assert.ok(
        ['webserver'].includes(r.logsource.category ?? '') ||
          ['nginx', 'apache'].includes(r.logsource.service ?? ''),
        r.title,
      );
    for (const r of dnsRules)
      assert.ok(r.logsource.category === 'dns' || r.logsource.service === 'dns', r.title);
    assert.deepEqual(matcher.candidates({ ...dns, source: 'unknown' }), []);
  });
});
