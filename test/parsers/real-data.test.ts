/**
 * Every file under ../shared/data/{zeek-tsv,zeek-json,suricata,nginx,auth} goes through the same
 * code path as `socstream parse` (parseFile → detection/parser → envelopes and rejects), with the
 * folder's format. The table is the expectation: accepted count and every reject reason with its
 * count (placeholder timestamps `XXXXXXXXXX.XXXXXX`, header-less Zeek logs, truncated/broken JSON,
 * a custom nginx layout that needs its log_format configured). A second table pins format detection.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { detectFormat } from '../../src/parsers/detect-format.ts';
import { createProcessor } from '../../src/pipeline/processor.ts';
import { readFileWhole } from '../../src/pipeline/read-input.ts';

const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
const FOLDER_FORMAT: Record<string, string> = {
  'zeek-tsv': 'zeek-tsv',
  'zeek-json': 'zeek-json',
  suricata: 'suricata-eve',
  nginx: 'nginx',
  auth: 'sshd',
};
// Fixed so RFC 3164 year inference is reproducible.
const REFERENCE_TIME_MS = Date.UTC(2026, 10, 23);

type Expectation = [file: string, accepted: number, rejects: Record<string, number>];

const EXPECTED: readonly Expectation[] = [
  ['zeek-tsv/wrccdc2018-zeek6.2/analyzer.log', 1960, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/capture_loss.log', 3, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/dce_rpc.log', 78, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/dns.log', 1976, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/dpd.log', 77, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ftp.log', 93, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/kerberos.log', 11, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/known_certs.log', 35, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/known_hosts.log', 253, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/known_services.log', 1579, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ldap_search.log', 1, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/loaded_scripts.log', 512, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/modbus.log', 268, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/notice.log', 207, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ntlm.log', 422, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ntp.log', 904, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ocsp.log', 1308, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/packet_filter.log', 1, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/pe.log', 21, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/rdp.log', 1985, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/rfb.log', 3, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/smb_files.log', 13, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/smb_mapping.log', 393, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/smtp.log', 1188, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/snmp.log', 65, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/software.log', 376, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ssh.log', 22, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/ssl.log', 1977, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/stats.log', 6, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/syslog.log', 1990, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/weird.log', 1990, {}],
  ['zeek-tsv/wrccdc2018-zeek6.2/x509.log', 348, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/core.cisco-fabric-path__conn.log', 0, { bad_timestamp: 64 }],
  [
    'zeek-tsv/zeek-btest-logging-edgecases/core.ip-broken-header__mpls-6in6-broken-wierd.log',
    0,
    { bad_timestamp: 443 },
  ],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-binary__ssh.log', 3, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-double__test.log', 22, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-empty__ssh-filtered.log', 0, { no_header: 12 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape-binary__test.log', 8, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape-empty-str__test.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape-notset-str__test.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape-odd-url__http.log', 0, { bad_timestamp: 1 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape-set-separator__test.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-escape__ssh.log', 0, { bad_timestamp: 5 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-gz__ssh-uncompressed.log', 0, { bad_timestamp: 1 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-gz__ssh.log', 0, { bad_timestamp: 1 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-line-like-comment__test.log', 3, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-logdir__ssh-filtered.log', 0, { no_header: 12 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-options__ssh.log', 0, { no_header: 5 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-timestamps__test.log', 9, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-tsv__ssh-filtered.log', 0, { no_header: 6 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-utf8-enabled-control-characters__test.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-utf8-enabled-set-separator-escape__test.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-utf8-enabled__test.log', 3, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.empty-event__ssh.log', 0, { bad_timestamp: 5 }],
  [
    'zeek-tsv/zeek-btest-logging-edgecases/logging.field-extension-complex__conn.log',
    0,
    { bad_timestamp: 34 },
  ],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.unset-record__testing.log', 2, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/logging.vec__ssh.log', 1, {}],
  ['zeek-tsv/zeek-btest-logging-edgecases/opt.basic__dns.log', 0, { bad_timestamp: 34 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/policy.conn.mac-logging__conn3.log', 0, { bad_timestamp: 1333 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/policy.ssl.log-certs-base64__x509.log', 0, { bad_timestamp: 3 }],
  [
    'zeek-tsv/zeek-btest-logging-edgecases/proto.dhcp.dhcp-prevent-large-uids__dhcp.log',
    0,
    { bad_timestamp: 63 },
  ],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.dnp3.events__dnp3.log', 0, { bad_timestamp: 66 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.ftp.cwd-navigation__ftp.log', 0, { bad_timestamp: 1375 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.http.http-methods__http.log', 0, { bad_timestamp: 49 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.krb.kinit__kerberos.log', 0, { bad_timestamp: 85 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.redis.django-cloud__redis.log', 0, { bad_timestamp: 158 }],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.sip.wireshark__sip.log', 0, { bad_timestamp: 36 }],
  [
    'zeek-tsv/zeek-btest-logging-edgecases/proto.smb.smb3-multichannel__smb_files.log',
    0,
    { bad_timestamp: 65 },
  ],
  ['zeek-tsv/zeek-btest-logging-edgecases/proto.ssl.keyexchange__ssl-all.log', 0, { bad_timestamp: 8 }],
  ['zeek-json/wrccdc2018-zeek6.2/analyzer.json', 1960, {}],
  ['zeek-json/wrccdc2018-zeek6.2/capture_loss.json', 3, {}],
  ['zeek-json/wrccdc2018-zeek6.2/dce_rpc.json', 78, {}],
  ['zeek-json/wrccdc2018-zeek6.2/dns.json', 1976, {}],
  ['zeek-json/wrccdc2018-zeek6.2/dpd.json', 77, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ftp.json', 93, {}],
  ['zeek-json/wrccdc2018-zeek6.2/kerberos.json', 11, {}],
  ['zeek-json/wrccdc2018-zeek6.2/known_certs.json', 35, {}],
  ['zeek-json/wrccdc2018-zeek6.2/known_hosts.json', 253, {}],
  ['zeek-json/wrccdc2018-zeek6.2/known_services.json', 1579, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ldap_search.json', 1, {}],
  ['zeek-json/wrccdc2018-zeek6.2/loaded_scripts.json', 512, {}],
  ['zeek-json/wrccdc2018-zeek6.2/modbus.json', 268, {}],
  ['zeek-json/wrccdc2018-zeek6.2/notice.json', 207, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ntlm.json', 422, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ntp.json', 904, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ocsp.json', 1308, {}],
  ['zeek-json/wrccdc2018-zeek6.2/packet_filter.json', 1, {}],
  ['zeek-json/wrccdc2018-zeek6.2/pe.json', 21, {}],
  ['zeek-json/wrccdc2018-zeek6.2/rdp.json', 1985, {}],
  ['zeek-json/wrccdc2018-zeek6.2/rfb.json', 3, {}],
  ['zeek-json/wrccdc2018-zeek6.2/smb_files.json', 13, {}],
  ['zeek-json/wrccdc2018-zeek6.2/smb_mapping.json', 393, {}],
  ['zeek-json/wrccdc2018-zeek6.2/smtp.json', 1188, {}],
  ['zeek-json/wrccdc2018-zeek6.2/snmp.json', 65, {}],
  ['zeek-json/wrccdc2018-zeek6.2/software.json', 376, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ssh.json', 22, {}],
  ['zeek-json/wrccdc2018-zeek6.2/ssl.json', 1977, {}],
  ['zeek-json/wrccdc2018-zeek6.2/stats.json', 6, {}],
  ['zeek-json/wrccdc2018-zeek6.2/syslog.json', 1990, {}],
  ['zeek-json/wrccdc2018-zeek6.2/weird.json', 1990, {}],
  ['zeek-json/wrccdc2018-zeek6.2/x509.json', 348, {}],
  ['zeek-json/zeek-btest-logging-edgecases/javascript.http-uri-sha256__http.log', 0, { invalid_json: 1 }],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-double__json.log', 22, {}],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-iso-timestamps__ssh.log', 10, {}],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing.log', 1, {}],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing_nullfields.log', 1, {}],
  [
    'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing_nullfields_via_config.log',
    1,
    {},
  ],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-utf8__ssh-tsv.log', 49, {}],
  ['zeek-json/zeek-btest-logging-edgecases/logging.ascii-json__ssh.log', 0, { invalid_json: 1 }],
  ['suricata/crowdsec-hub/suricata-eve-detect.log', 4, {}],
  ['suricata/crowdsec-hub/suricata-logs-evelog.log', 8, {}],
  ['suricata/dcso-fever/alertify_input.json', 3, {}],
  ['suricata/dcso-fever/jsonparse_eve.json', 3, {}],
  ['suricata/dcso-fever/jsonparse_eve_broken1.json', 2, { invalid_json: 1 }],
  ['suricata/dcso-fever/jsonparse_eve_empty.json', 0, {}],
  ['suricata/dcso-fever/jsonparse_eve_nulls.json', 1, {}],
  ['suricata/surevego/eve.json', 266, {}],
  ['suricata/surevego/eve_broken.json', 262, { bad_timestamp: 1, invalid_json: 6 }],
  ['suricata/suricata-verify/output-eve-fileinfo_expected_eve.json', 1, {}],
  ['nginx/crowdsec-hub/access/nginx-bad-user-agent__nginx-bad-user-agent.log', 3, {}],
  ['nginx/crowdsec-hub/access/nginx-cve-2021-41773__cve-2021-41773.log', 2, {}],
  ['nginx/crowdsec-hub/access/nginx-http-backdoor__nginx-http-backdoor.log', 2, {}],
  ['nginx/crowdsec-hub/access/nginx-http-malformed__nginx_http-logs.log', 12, {}],
  ['nginx/crowdsec-hub/access/nginx-http-open-proxy__nginx-http-open-proxy.log', 2, {}],
  ['nginx/crowdsec-hub/access/nginx-http-path-traversal__nginx-http-path-traversal.log', 9, {}],
  ['nginx/crowdsec-hub/access/nginx-http-sensitive-files__nginx-http-sensitive-files.log', 9, {}],
  ['nginx/crowdsec-hub/access/nginx-http-sqli-probing__nginx-http-sqli-probing.log', 16, {}],
  ['nginx/crowdsec-hub/access/nginx-http-w00twoot__nginx-http-w00twoot.log', 2, {}],
  ['nginx/crowdsec-hub/access/nginx-http-xss-probing__nginx-http-xss-probing.log', 26, {}],
  ['nginx/crowdsec-hub/access/nginx-proxy-manager-logs__nginx-proxy-manager-logs.log', 14, {}],
  ['nginx/crowdsec-hub/access/nginx-proxy-manager-malformed__nginx_http-logs.log', 12, {}],
  ['nginx/crowdsec-hub/access/nginx_http-catch-npm__nginx_http-catch-npm.log', 2, { unrecognized_line: 4 }],
  ['nginx/crowdsec-hub/access/nginx_http-logs__nginx_http-logs.log', 9, {}],
  ['nginx/crowdsec-hub/error/modsecurity-logs-nginx__modsecurity-logs-nginx.log', 8, {}],
  ['nginx/crowdsec-hub/error/modsecurity-nginx__modsecurity-nginx.log', 2, {}],
  ['nginx/crowdsec-hub/error/nginx-http-generic-bf__nginx-http-generic-bf.log', 22, {}],
  ['nginx/crowdsec-hub/error/nginx-mail-bf__nginx-mail-bf.log', 11, {}],
  ['nginx/crowdsec-hub/error/nginx-mail-logs__nginx-mail-logs.log', 17, {}],
  ['nginx/crowdsec-hub/error/nginx_req_limit_exceeded__nginx_req_limit_exceeded.log', 9, {}],
  ['nginx/crowdsec-hub/error/pfsense-rfc5424-nginx__pfsense-rfc5424-nginx.log', 1, {}],
  ['nginx/elastic-beats/access.log', 13, {}],
  ['nginx/elastic-beats/test-with-host.log', 10, {}],
  ['nginx/elastic-beats/test.log', 7, {}],
  ['nginx/elastic-examples/apache_logs_combined_sample.log', 2000, {}],
  ['auth/crowdsec-hub/geoip-enrich__ssh-bf.log', 3, {}],
  ['auth/crowdsec-hub/opnsense-sshd__opnsense-sshd.log', 10, {}],
  ['auth/crowdsec-hub/pam-logs__pam-logs.log', 2, {}],
  ['auth/crowdsec-hub/ssh-bf__ssh-bf.log', 6, {}],
  ['auth/crowdsec-hub/ssh-generic-test__ssh-generic-test.log', 1, {}],
  ['auth/crowdsec-hub/ssh-slow-bf__ssh-slow-bf.log', 22, {}],
  ['auth/crowdsec-hub/ssh-time-based-bf__ssh-time-based-bf.log', 15, {}],
  ['auth/crowdsec-hub/ssh-timeout__ssh-timeout.log', 8, {}],
  ['auth/crowdsec-hub/sshd-bad-keyexchange-bf__sshd-bad-keyexchange-bf.log', 19, {}],
  ['auth/crowdsec-hub/sshd-impossible-travel__sshd-success-logs.log', 2, {}],
  ['auth/crowdsec-hub/sshd-invalid-bf__sshd-invalid-bf.log', 6, {}],
  ['auth/crowdsec-hub/sshd-logs-fp__sshd-logs.log', 6, {}],
  ['auth/crowdsec-hub/sshd-logs__sshd-logs.log', 24, {}],
  ['auth/crowdsec-hub/sshd-refused-conn__sshd-refused-conn.log', 1, {}],
  ['auth/crowdsec-hub/sshd-success-logs__sshd-success-logs.log', 4, {}],
  ['auth/crowdsec-hub/sshd_banner_exchange__sshd_banner_exchange.log', 12, {}],
  ['auth/crowdsec-hub/syslog-logs__syslog-logs.log', 3, {}],
  ['auth/elastic-beats/test.log', 10, {}],
  ['auth/elastic-beats/timestamp.log', 2, {}],
];

/** Files whose first lines do not name their folder's format, and what detection says instead. */
const DETECTION_EXCEPTIONS: Record<string, string | undefined> = {
  // Zeek btest baselines written without a header (or with a custom meta prefix `PREFIX<>`).
  'zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-empty__ssh-filtered.log': undefined,
  'zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-logdir__ssh-filtered.log': undefined,
  'zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-options__ssh.log': undefined,
  'zeek-tsv/zeek-btest-logging-edgecases/logging.ascii-tsv__ssh-filtered.log': undefined,
  // Only line is invalid JSON (unquoted placeholder timestamp).
  'zeek-json/zeek-btest-logging-edgecases/javascript.http-uri-sha256__http.log': undefined,
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json__ssh.log': undefined,
  // Zeek test logs with one synthetic field (`{"d": 1.0}`): nothing marks them as Zeek, generic json wins.
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-double__json.log': 'json',
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-iso-timestamps__ssh.log': 'json',
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing.log': 'json',
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing_nullfields.log': 'json',
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-optional__testing_nullfields_via_config.log':
    'json',
  'zeek-json/zeek-btest-logging-edgecases/logging.ascii-json-utf8__ssh-tsv.log': 'json',
  'suricata/dcso-fever/jsonparse_eve_empty.json': undefined,
  // A custom layout (`[$time_local] $host $remote_addr $request_time ...`) in 4 of 6 lines: it needs
  // parsers.settings.nginx.log_format (the golden nginx/log-format case does exactly that).
  'nginx/crowdsec-hub/access/nginx_http-catch-npm__nginx_http-catch-npm.log': undefined,
};

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

const available = existsSync(DATA);

describe('every real data file through the parse code path', {
  skip: !available && 'no ../shared/data',
}, () => {
  const files = available ? Object.keys(FOLDER_FORMAT).flatMap((f) => walk(join(DATA, f))) : [];
  const expected = new Map(EXPECTED.map(([file, accepted, rejects]) => [file, { accepted, rejects }]));

  test('the expectation table lists exactly the files in the data folders', () => {
    assert.deepEqual(files.map((f) => relative(DATA, f)).sort(), [...expected.keys()].sort());
  });

  for (const path of files) {
    const name = relative(DATA, path);
    const format = FOLDER_FORMAT[name.split('/')[0]];
    test(`${name}: accepted count and reject reasons as expected`, async () => {
      const processor = createProcessor({ normalizer: createNormalizer() });
      const { envelopes, rejects, stats } = await readFileWhole(path, processor, {
        format,
        referenceTimeMs: REFERENCE_TIME_MS,
      });
      const want = expected.get(name);
      assert.ok(want, `${name} is missing from EXPECTED`);
      assert.equal(envelopes.length, want.accepted);
      const byReason: Record<string, number> = {};
      for (const r of rejects) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
      assert.deepEqual(byReason, want.rejects);
      // Every line is accounted for: accepted + skipped (headers) + rejected; blank lines carry no
      // event and are dropped by the framer (src/sources/lines.ts).
      const lines = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.replace(/\r$/, '') !== '');
      assert.equal(stats.accepted + stats.skipped + stats.rejected, lines.length);
      assert.equal(new Set(envelopes.map((e) => e.id)).size, envelopes.length, 'ids are unique');
      for (const r of rejects) {
        assert.equal(r.format, format);
        assert.equal(r.position.kind, 'file');
      }
    });
  }

  test("format detection from the first lines names each file's folder format", () => {
    for (const path of files) {
      const name = relative(DATA, path);
      const first = readFileSync(path, 'utf8').split('\n').slice(0, 20);
      const want =
        name in DETECTION_EXCEPTIONS ? DETECTION_EXCEPTIONS[name] : FOLDER_FORMAT[name.split('/')[0]];
      assert.equal(detectFormat(first), want, name);
    }
  });
});
