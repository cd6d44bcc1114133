import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { buildIocIndex, createIocStore, detectKind, parseIocList } from '../../src/enrich/ioc.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-ioc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const list = (name: string, path: string) => ({
  name,
  path,
  kind: 'auto' as const,
  severity: 'high' as const,
});

describe('IOC lists', () => {
  it('detects indicator kinds', () => {
    assert.equal(detectKind('216.239.34.174'), 'ip');
    assert.equal(detectKind('2001:db8::1'), 'ip');
    assert.equal(detectKind('10.47.0.0/16'), 'cidr');
    assert.equal(detectKind('evil.example.com'), 'domain');
    assert.equal(detectKind('http://evil.example.com/x.exe'), 'url');
    assert.equal(detectKind('44D88612FEA8A8F36DE82E1278ABB02F'), 'hash');
    assert.equal(detectKind('not an indicator'), undefined);
  });

  const text = `# feed
216.239.34.174
10.47.8.0/24
2001:db8:bad::/48
wrccdc.org        # the domain and every subdomain
http://deb.debian.org/debian/pool/main/p/perl/perl-base_5.24.1-1_amd64.deb
44d88612fea8a8f36de82e1278abb02f
???
`;
  const parsed = parseIocList(list('feed', join(dir, 'feed.txt')), text);
  const index = buildIocIndex(parsed.entries);

  it('parses a text list and counts unrecognised lines', () => {
    assert.equal(parsed.entries.length, 6);
    assert.equal(parsed.skipped, 1);
  });
  it('matches IPs, CIDRs (IPv4 and IPv6) with list, kind, field and severity', () => {
    assert.deepEqual(index.match({ src_ip: '10.128.0.4', dst_ip: '216.239.34.174' }), [
      { list: 'feed', indicator: '216.239.34.174', kind: 'ip', field: 'dst_ip', severity: 'high' },
    ]);
    assert.deepEqual(
      index.match({ src_ip: '10.47.8.208', dst_ip: '2001:db8:bad::1' }).map((m) => [m.kind, m.field]),
      [
        ['cidr', 'src_ip'],
        ['cidr', 'dst_ip'],
      ],
    );
  });
  it('matches a domain and its subdomains, not look-alikes', () => {
    assert.equal(index.match({ dns_query: 'ise.wrccdc.org' })[0]?.indicator, 'wrccdc.org');
    assert.equal(index.match({ tls_sni: 'WRCCDC.org.' })[0]?.field, 'tls_sni');
    assert.deepEqual(index.match({ dns_query: 'notwrccdc.org' }), []);
  });
  it('matches URLs from url + http_host and hashes case-insensitively', () => {
    const m = index.match({
      http_host: 'deb.debian.org',
      url: '/debian/pool/main/p/perl/perl-base_5.24.1-1_amd64.deb',
    });
    assert.equal(m[0]?.kind, 'url');
    assert.equal(index.match({ file_md5: '44D88612FEA8A8F36DE82E1278ABB02F' })[0]?.kind, 'hash');
  });
  it('reads CSV lists with per-row kind and severity', () => {
    const csv =
      'indicator,kind,severity,comment\n"evil.example",domain,critical,"c2, seen 2026"\n1.2.3.4,,low,\n';
    const { entries } = parseIocList({ ...list('csv', 'x.csv') }, csv);
    assert.deepEqual(
      entries.map((e) => [e.indicator, e.kind, e.severity]),
      [
        ['evil.example', 'domain', 'critical'],
        ['1.2.3.4', 'ip', 'low'],
      ],
    );
  });

  it('reports a missing list file as a config error naming the list', async () => {
    const store = createIocStore([list('gone', join(dir, 'missing.txt'))]);
    await assert.rejects(
      store.load(),
      (err: Error) => err instanceof ConfigError && /enrich\.ioc "gone"/.test(err.message),
    );
  });

  it('reloads a list when its file changes, also when replaced by rename', async (t) => {
    const path = join(dir, 'live.txt');
    writeFileSync(path, '1.1.1.1\n');
    const reloads: number[] = [];
    let notify: (() => void) | undefined;
    const store = createIocStore([list('live', path)], {
      debounceMs: 20,
      onReload: (_name, size) => {
        reloads.push(size);
        notify?.();
      },
    });
    t.after(() => store.close());
    await store.load();
    store.watch();
    assert.equal(store.index().match({ dst_ip: '1.1.1.1' }).length, 1);
    assert.equal(store.index().match({ dst_ip: '9.9.9.9' }).length, 0);

    const reloaded = () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    let wait = reloaded();
    writeFileSync(path, '9.9.9.9\n');
    await wait;
    assert.equal(store.index().match({ dst_ip: '9.9.9.9' }).length, 1);
    assert.equal(store.index().match({ dst_ip: '1.1.1.1' }).length, 0);

    wait = reloaded();
    writeFileSync(join(dir, 'live.tmp'), '9.9.9.9\nbad.example\n');
    renameSync(join(dir, 'live.tmp'), path);
    await wait;
    assert.equal(store.index().match({ dns_query: 'x.bad.example' }).length, 1);
    assert.ok(reloads.length >= 2);
  });
});
