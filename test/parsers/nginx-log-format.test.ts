import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLogFormat } from '../../src/parsers/nginx-log-format.ts';

test('the stock combined log_format compiles to one regex with a group per variable', () => {
  const c = compileLogFormat(
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  );
  assert.deepEqual(c.variables, [
    'remote_addr',
    'remote_user',
    'time_local',
    'request',
    'status',
    'body_bytes_sent',
    'http_referer',
    'http_user_agent',
  ]);
  const m = c.regex.exec(
    '1.2.3.4 - bob [29/Sep/2021:14:11:34 +0200] "GET /a\\"b HTTP/1.1" 200 10918 "-" "curl/7.68.0 (x)"',
  );
  assert.ok(m);
  assert.deepEqual(m.slice(1), [
    '1.2.3.4',
    'bob',
    '29/Sep/2021:14:11:34 +0200',
    'GET /a\\"b HTTP/1.1',
    '200',
    '10918',
    '-',
    'curl/7.68.0 (x)',
  ]);
});

test('braced variables, regex metacharacters in literals and an unquoted last variable', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx's ${variable} syntax, not a template
  const c = compileLogFormat('${remote_addr}|($status)* $request_time $http_user_agent');
  assert.deepEqual(c.regex.exec('::1|(404)* 0.002 Mozilla/5.0 (X11; Linux)')?.slice(1), [
    '::1',
    '404',
    '0.002',
    'Mozilla/5.0 (X11; Linux)',
  ]);
  assert.equal(c.regex.exec('::1|(40)* 0.002 x'), null, '$status is exactly three digits');
});

test('a format without variables is a configuration error', () => {
  assert.throws(() => compileLogFormat('just text'), /no \$variables/);
});
