import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nginx, timeLocalToMs } from '../../src/parsers/nginx.ts';
import { feed, one, verdict } from './helpers.ts';

test('combined with vhost and a quoted X-Forwarded-For chain: last address is remote_addr', () => {
  const r = one(
    feed(nginx, [
      'example.com:80 "10.5.102.222, 175.16.199.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront"',
    ])[0],
  );
  assert.deepEqual(r, {
    source: 'nginx',
    log_type: 'access',
    eventTimeMs: Date.UTC(2016, 0, 22, 13, 18, 29),
    raw: {
      vhost: 'example.com:80',
      remote_addr: '10.2.1.185',
      x_forwarded_for: ['10.5.102.222', '175.16.199.1', '204.246.1.1'],
      time_local: '22/Jan/2016:13:18:29 +0000',
      request: 'GET /assets/xxxx?q=100 HTTP/1.1',
      request_method: 'GET',
      request_uri: '/assets/xxxx?q=100',
      server_protocol: 'HTTP/1.1',
      status: 200,
      body_bytes_sent: 25507,
      http_user_agent: 'Amazon CloudFront',
    },
  });
});

test('common format (no referer/UA), IPv6 client, user, trailing $http_x_forwarded_for', () => {
  const [a, b] = feed(nginx, [
    '2001:db8::1 - alice [07/Dec/2016:11:05:07 +0100] "POST /login HTTP/2.0" 401 12',
    '172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /x HTTP/1.1" 404 612 "http://r/" "UA" "198.51.100.1"',
  ]).map(one);
  assert.equal(a.raw.remote_addr, '2001:db8::1');
  assert.equal(a.raw.remote_user, 'alice');
  assert.equal(a.raw.status, 401);
  assert.equal(a.eventTimeMs, Date.UTC(2016, 11, 7, 10, 5, 7));
  assert.equal(b.raw.http_referer, 'http://r/');
  assert.equal(b.raw.http_x_forwarded_for, '198.51.100.1');
});

test('error log: level, pid, connection, message and the client/server/request/host context', () => {
  const r = one(
    feed(nginx, [
      '2022/04/02 13:39:51 [info] 8#8: *6631 client login failed: "AUTH not supported" while in http auth state, client: 5.34.207.182, server: 0.0.0.0:25, login: "linkinpark@example.com"',
    ])[0],
  );
  assert.equal(r.log_type, 'error');
  assert.deepEqual(r.raw, {
    time: '2022/04/02 13:39:51',
    level: 'info',
    pid: 8,
    tid: 8,
    connection: 6631,
    client: '5.34.207.182',
    server: '0.0.0.0:25',
    login: 'linkinpark@example.com',
    message: 'client login failed: "AUTH not supported" while in http auth state',
  });
});

test('a custom log_format from settings is tried first, then the stock layouts; other lines are rejected', () => {
  const results = feed(
    nginx,
    [
      '[10/Feb/2024:21:23:40 +0100] wings.example.com 192.168.1.101 0.002 "GET / HTTP/1.1" 401 77 935 - Uptime-Kuma/1.23.11',
      'nonsense',
      // crowdsec-hub nginx_http-catch-npm (MIT): the same file holds Nginx Proxy Manager lines
      '[10/Feb/2024:21:25:00 +0100] 200 - GET https booking.example.org "/dashboard" [Client 192.168.1.103] [Length 2048] [Gzip 1.2] [Sent-to 192.168.1.50] "Mozilla/5.0" "-"',
    ],
    {
      settings: {
        log_format:
          '[$time_local] $host $remote_addr $request_time "$request" $status $body_bytes_sent $request_length $http_referer $http_user_agent',
      },
    },
  );
  const r = one(results[0]);
  assert.deepEqual(r.raw, {
    time_local: '10/Feb/2024:21:23:40 +0100',
    host: 'wings.example.com',
    remote_addr: '192.168.1.101',
    request_time: 0.002,
    request: 'GET / HTTP/1.1',
    request_method: 'GET',
    request_uri: '/',
    server_protocol: 'HTTP/1.1',
    status: 401,
    body_bytes_sent: 77,
    request_length: 935,
    http_user_agent: 'Uptime-Kuma/1.23.11',
  });
  assert.equal(r.eventTimeMs, Date.UTC(2024, 1, 10, 20, 23, 40));
  assert.equal(verdict(results[1]), 'unrecognized_line');
  assert.equal(one(results[2]).raw.remote_addr, '192.168.1.103');
});

test('time_local with offsets', () => {
  assert.equal(timeLocalToMs('29/Jul/2023:10:26:06 -0700'), Date.UTC(2023, 6, 29, 17, 26, 6));
  assert.equal(timeLocalToMs('29/Foo/2023:10:26:06 -0700'), undefined);
});

test('Nginx Proxy Manager layouts: proxy host (cache, upstream status, Sent-to) and default host', () => {
  const [proxy, plain] = feed(nginx, [
    '[01/Oct/2025:14:32:15 +0000] HIT 200 200 - GET https example.com "/api/users" [Client 192.168.1.100] [Length 1543] [Gzip 2.45] [Sent-to 10.0.0.15:8080] "curl/7.68.0" "-"',
    '[24/Jan/2022:13:40:19 +0000] 444 - GET https 4.3.2.1 "/.env" [Client 207.32.219.89] [Length 0] [Gzip -] "Mozilla/5.0" "-"',
  ]).map(one);
  assert.deepEqual(proxy.raw, {
    time_local: '01/Oct/2025:14:32:15 +0000',
    upstream_cache_status: 'HIT',
    upstream_status: 200,
    status: 200,
    request_method: 'GET',
    scheme: 'https',
    host: 'example.com',
    request_uri: '/api/users',
    remote_addr: '192.168.1.100',
    body_bytes_sent: 1543,
    gzip_ratio: 2.45,
    server: '10.0.0.15:8080',
    http_user_agent: 'curl/7.68.0',
  });
  assert.equal(proxy.log_type, 'access');
  assert.deepEqual(
    [plain.raw.status, plain.raw.remote_addr, plain.raw.request_uri, plain.raw.upstream_status],
    [444, '207.32.219.89', '/.env', undefined],
  );
});

test('an X-Forwarded-For chain logged before the client is the chain, not a virtual host', () => {
  // The shape (a log_format starting "$http_x_forwarded_for" $remote_addr)
  const r = one(
    feed(nginx, [
      '"10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/7.29.0"',
    ])[0],
  );
  assert.equal(r.raw.vhost, undefined);
  assert.equal(r.raw.remote_addr, '10.2.1.185');
  assert.deepEqual(r.raw.x_forwarded_for, ['10.5.102.222', '199.96.1.1']);
  // A real vhost prefix (elastic-beats test-with-host.log) stays a vhost.
  const v = one(
    feed(nginx, [
      'example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0"',
    ])[0],
  );
  assert.deepEqual([v.raw.vhost, v.raw.remote_addr], ['example.com', '127.0.0.1']);
});

test('basic-auth failures in the error log give the user and a failure; a forged client context gives no client', () => {
  const [notFound, mismatch, forged, none] = feed(nginx, [
    // crowdsec-hub nginx-http-generic-bf (MIT), line 1
    '2021/09/30 09:23:53 [error] 1925800#1925800: *17 user "foo" was not found in "/tmp/a.htpasswd", client: 127.0.0.1, server: _, request: "GET / HTTP/1.1", host: "localhost"',
    // ngx_http_auth_basic_module's other message, same shape
    '2021/09/30 09:24:10 [error] 1925800#1925800: *21 user "admin": password mismatch, client: 192.0.2.44, server: _, request: "GET /admin HTTP/1.1", host: "localhost"',
    // a user name that imitates nginx's context (nginx logs it unescaped)
    '2021/09/30 09:24:11 [error] 1925800#1925800: *22 user "x": password mismatch, client: 10.0.0.9, server: a, request: "GET / HTTP/1.1", host: "h": password mismatch, client: 192.0.2.44, server: _, request: "GET / HTTP/1.1", host: "localhost"',
    '2021/09/30 09:24:12 [error] 1925800#1925800: *23 no user/password was provided for basic authentication, client: 192.0.2.44, server: _, request: "GET / HTTP/1.1", host: "localhost"',
  ]).map(one);
  assert.deepEqual(
    [notFound.raw.event, notFound.raw.outcome, notFound.raw.user, notFound.raw.client, notFound.raw.server],
    ['user_not_found', 'failure', 'foo', '127.0.0.1', '_'],
  );
  assert.deepEqual(
    [mismatch.raw.event, mismatch.raw.user, mismatch.raw.client],
    ['password_mismatch', 'admin', '192.0.2.44'],
  );
  assert.equal(forged.raw.client, undefined, 'two contexts: one is forged, so neither is trusted');
  assert.equal(forged.raw.client_ambiguous, true);
  assert.deepEqual(
    [none.raw.event, none.raw.outcome, none.raw.client],
    ['auth_required', 'unknown', '192.0.2.44'],
  );
});

test('a Basic-auth user name that imitates the context gives no user either, only what every reading agrees on', () => {
  const [mismatch, notFound] = feed(nginx, [
    // the real user is `x": password mismatch, client: 10.0.0.9, …, host: "h` (nginx logs it unescaped)
    '2021/09/30 09:24:11 [error] 1925800#1925800: *22 user "x": password mismatch, client: 10.0.0.9, server: a, request: "GET / HTTP/1.1", host: "h": password mismatch, client: 192.0.2.44, server: _, request: "GET / HTTP/1.1", host: "localhost"',
    '2021/09/30 09:24:11 [error] 1925800#1925800: *22 user "x" was not found in "/tmp/a.htpasswd", client: 10.0.0.9, server: a, request: "GET / HTTP/1.1", host: "h": password mismatch, client: 192.0.2.44, server: _, request: "GET / HTTP/1.1", host: "localhost"',
  ]).map(one);
  assert.deepEqual(
    [mismatch.raw.user, mismatch.raw.event, mismatch.raw.outcome, mismatch.raw.client],
    [undefined, 'password_mismatch', 'failure', undefined],
  );
  assert.deepEqual(
    [notFound.raw.user, notFound.raw.event, notFound.raw.outcome, notFound.raw.client],
    [undefined, undefined, 'failure', undefined],
  );
});

test('a Basic-auth user name with spaces cannot move remote_addr: the client is read before it, or not at all', () => {
  // crowdsec-hub nginx-http-generic-bf (MIT): `127.0.0.1 - test [06/Mar/2022:16:14:13 +0000] "POST /client …`,
  // with the user name a client could send instead of `test` ($remote_user: only `"`, `\` and controls escaped).
  const TAIL =
    '[06/Mar/2022:16:14:13 +0000] "POST /client HTTP/1.1" 401 141 "http://127.0.0.1/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" "-"';
  const users = [
    'test',
    '1.2.3.4',
    'a b c',
    'x - y',
    '1.2.3.4 -',
    '1.2.3.4 - -',
    '- 1.2.3.4',
    '1.2.3.4, 5.6.7.8 - -',
  ];
  const results = feed(
    nginx,
    users.map((u) => `127.0.0.1 - ${u} ${TAIL}`),
  ).map(one);
  results.forEach((r, i) => {
    assert.equal(r.raw.status, 401, users[i]);
    if (r.raw.src_ambiguous === true) {
      // `127.0.0.1 - 1.2.3.4 - - [` could be client 1.2.3.4 behind an X-Forwarded-For `127.0.0.1 -`.
      assert.deepEqual([r.raw.remote_addr, r.raw.remote_user], [undefined, undefined], users[i]);
    } else {
      assert.deepEqual([r.raw.remote_addr, r.raw.remote_user], ['127.0.0.1', users[i]], users[i]);
    }
  });
  assert.deepEqual(
    results.map((r) => r.raw.src_ambiguous === true),
    [false, false, false, false, true, true, false, true],
  );
  // The real shapes keep their reading: vhost, quoted and unquoted chains, unix:, localhost, one dash.
  const real = feed(nginx, [
    `example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - ${TAIL}`,
    `1.128.3.4 2a02:cf40:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121 - - ${TAIL}`,
    `example.com:80 unix: - - ${TAIL}`,
    `example.com localhost, localhost - - ${TAIL}`,
    `192.168.1.1 - ${TAIL}`,
  ]).map((r) => one(r).raw.remote_addr);
  assert.deepEqual(real, ['127.0.0.1', '10.2.2.121', 'unix:', 'localhost', '192.168.1.1']);
});
