import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { enrichSchema } from '../../src/config/schema.ts';
import type { InputRecord } from '../../src/core/envelope.ts';
import { MappingInvalidError } from '../../src/core/errors.ts';
import { eventId } from '../../src/core/ids.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createEnricher } from '../../src/enrich/enricher.ts';
import { createNormalizer } from '../../src/normalize/normalize.ts';
import { parserFor } from '../../src/parsers/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'socstream-mappings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The raw record of the Zeek → Parquet seed's Kafka output example (seeds/003), as Zeek JSON. */
const SEED_DNS_LINE =
  '{"ts":1769868799.213927,"uid":"CfqDt31quyW8AAJct6","id.orig_h":"10.128.0.4","id.orig_p":38532,"id.resp_h":"216.239.34.174","id.resp_p":53,"proto":"udp","query":"example.com","qtype_name":"A","rcode_name":"NOERROR","answers":["93.184.216.34"]}';

function parseOne(format: string, line: string, offset = 0) {
  const position = { kind: 'file', path: '/seed/dns.log', fileId: '2049:77', offset } as const;
  const record: InputRecord = {
    text: line,
    byteLength: line.length,
    position,
    receivedAt: 0,
    formatHint: 'dns',
  };
  const result = parserFor(format).create({ logType: 'dns' }).parse(record);
  assert.ok(result.ok && result.records.length === 1, JSON.stringify(result));
  return { parsed: result.records[0], id: eventId(position) };
}

describe('normalizer', () => {
  it('gives the seed DNS example its normalized and enriched values', async () => {
    const { parsed, id } = parseOne('zeek-json', SEED_DNS_LINE);
    const env = createNormalizer().normalize(parsed, id, 1_770_089_817_352);
    assert.equal(env.source, 'zeek');
    assert.equal(env.log_type, 'dns');
    assert.equal(env.raw.uid, 'CfqDt31quyW8AAJct6');
    const n = env.normalized;
    assert.equal(n.event_time, 1_769_868_799_213);
    assert.equal(n.ingest_time, 1_770_089_817_352);
    assert.equal(n.flow_id, 'CfqDt31quyW8AAJct6');
    assert.equal(n.src_ip, '10.128.0.4');
    assert.equal(n.dst_ip, '216.239.34.174');
    assert.equal(n.protocol, 'udp');
    assert.equal(n.event_class, 'dns');
    assert.equal(n.event_type, 'dns');
    assert.equal(n.dns_query, 'example.com');
    assert.match(String(n.community_id), /^1:[A-Za-z0-9+/]{27}=$/);
    const enricher = createEnricher(enrichSchema.parse({ home_networks: ['10.0.0.0/8'] }), {
      logger: createLogger({ level: 'silent', destination: process.stderr }),
    });
    await enricher.start();
    enricher.enrich(env);
    await enricher.stop();
    assert.equal(env.enriched.src_ip_is_private, true);
    assert.equal(env.enriched.dst_ip_is_private, false);
    assert.equal(env.enriched.direction, 'outbound');
    assert.equal(env.enriched.event_year, 2026);
  });

  it('gives the same id for the same input position and a different one elsewhere', () => {
    const a = parseOne('zeek-json', SEED_DNS_LINE, 0);
    const b = parseOne('zeek-json', SEED_DNS_LINE, 0);
    const c = parseOne('zeek-json', SEED_DNS_LINE, 512);
    const normalizer = createNormalizer();
    assert.equal(normalizer.normalize(a.parsed, a.id, 1).id, normalizer.normalize(b.parsed, b.id, 2).id);
    assert.notEqual(a.id, c.id);
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
  });

  it('keeps a community_id the log already has', () => {
    const { parsed, id } = parseOne(
      'zeek-json',
      '{"_path":"conn","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"tcp","community_id":"1:given"}',
    );
    assert.equal(createNormalizer().normalize(parsed, id, 0).normalized.community_id, '1:given');
  });

  it('keeps a logged community_id on any Zeek log (a notice, a record without _path), and drops port 93145', () => {
    const normalizer = createNormalizer();
    const notice = parseOne(
      'zeek-json',
      '{"_path":"notice","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"tcp","note":"X::Y","community_id":"1:fromnotice"}',
    );
    assert.equal(normalizer.normalize(notice.parsed, notice.id, 0).normalized.community_id, '1:fromnotice');
    const bad = parseOne(
      'zeek-json',
      '{"_path":"conn","ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":93145,"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp","conn_state":"S0"}',
    );
    const n = normalizer.normalize(bad.parsed, bad.id, 0).normalized;
    assert.equal(n.src_port, undefined, 'a port above 65535 is no port');
    assert.equal(n.dst_port, 80);
  });

  it('an nginx client that is no IP (unix:, localhost) is no src_ip; an IPv4-mapped one is unmapped', () => {
    const normalizer = createNormalizer();
    // elastic-beats filebeat nginx test lines (Apache-2.0), see ../shared/data/SOURCES.md
    const tail = '[26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-"';
    const srcOf = (line: string, offset: number) => {
      const r = parseOne('nginx', line, offset);
      return normalizer.normalize(r.parsed, r.id, 0).normalized.src_ip;
    };
    assert.equal(srcOf(`example.com:80 unix: - - ${tail}`, 0), undefined);
    assert.equal(srcOf(`example.com localhost, localhost - - ${tail}`, 1), undefined);
    assert.equal(srcOf(`::ffff:81.2.69.143 - - ${tail}`, 2), '81.2.69.143');
    assert.equal(srcOf(`2a02:cf40:10ff:f00f::8000 - - ${tail}`, 3), '2a02:cf40:10ff:f00f::8000');
  });

  it('gives every Suricata event type its event_type, even one without a mapping file (nfs)', () => {
    const line =
      '{"timestamp":"2023-03-24T12:00:21.000000+0000","flow_id":1,"event_type":"nfs","src_ip":"10.0.0.20","src_port":700,"dest_ip":"10.0.0.5","dest_port":2049,"proto":"TCP","nfs":{"procedure":"GETATTR"}}';
    const r = parserFor('suricata-eve')
      .create({})
      .parse({
        text: line,
        byteLength: line.length,
        position: { kind: 'stream', name: 't', sequence: 0 },
        receivedAt: 0,
      });
    assert.ok(r.ok && r.records.length === 1);
    assert.equal(createNormalizer().normalize(r.records[0], 'id', 0).normalized.event_type, 'nfs');
  });

  it('lets config mappings override and add fields, and remove one with null', () => {
    const extra = join(dir, 'override', 'zeek');
    mkdirSync(extra, { recursive: true });
    writeFileSync(
      join(extra, 'dns.yaml'),
      'static: { severity: low }\nfields:\n  dns_query: { from: query, as: upper }\n  message: qclass_name\n  flow_id: null\n',
    );
    const { parsed, id } = parseOne('zeek-json', SEED_DNS_LINE.replace('}', ',"qclass_name":"C_INTERNET"}'));
    const n = createNormalizer({ extraMappings: [join(dir, 'override')] }).normalize(
      parsed,
      id,
      0,
    ).normalized;
    assert.equal(n.dns_query, 'EXAMPLE.COM');
    assert.equal(n.message, 'C_INTERNET');
    assert.equal(n.severity, 'low');
    assert.equal(n.severity_score, 25);
    assert.equal(n.flow_id, undefined);
    assert.equal(n.src_ip, '10.128.0.4', 'fields from the shipped mapping stay');
  });

  it("reads the seed's normalization.json shape (raw → canonical under `promote`)", () => {
    const file = join(dir, 'normalization.json');
    writeFileSync(
      file,
      JSON.stringify({
        mylog: {
          source: 'zeek_mylog',
          promote: { ts: 'event_time', uid: 'flow_id', 'id.orig_h': 'src_ip' },
          static: { event_type: 'mylog', event_class: 'network' },
          enrich: { time: true, network: true },
        },
      }),
    );
    const normalizer = createNormalizer({ extraMappings: [file] });
    const env = normalizer.normalize(
      { source: 'zeek', log_type: 'mylog', raw: { ts: 10.25, uid: 'C9', 'id.orig_h': '10.1.1.1' } },
      'id',
      0,
    );
    assert.deepEqual(env.normalized, {
      ingest_time: 0,
      event_type: 'mylog',
      event_class: 'network',
      event_time: 10_250,
      flow_id: 'C9',
      src_ip: '10.1.1.1',
    });
    assert.deepEqual([...normalizer.enrichmentsFor('zeek', 'mylog')].sort(), ['network', 'time']);
  });

  for (const [name, yaml, pattern] of [
    [
      'an unknown canonical field',
      'fields:\n  source_address: id.orig_h\n',
      /bad\.yaml: fields\.source_address: unknown canonical field/,
    ],
    [
      'an unknown converter',
      'fields:\n  src_ip: { from: x, as: reverse }\n',
      /fields\.src_ip\.as: unknown converter "reverse"/,
    ],
    [
      'a value outside an enumeration',
      'static:\n  severity: urgent\n',
      /static\.severity: "urgent" is not one of/,
    ],
    ['an unknown top-level key', 'feilds: {}\n', /bad\.yaml: feilds: unknown key/],
    ['an unknown enrichment', 'enrich: [weather]\n', /enrich: unknown enrichment "weather"/],
    ['invalid YAML', 'fields: [\n', /bad\.yaml: \(top level\): not valid yaml/],
  ] as const) {
    it(`rejects ${name} at load, naming the file and key`, () => {
      const sub = join(dir, `bad-${name.replace(/\W+/g, '-')}`, 'zeek');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'bad.yaml'), yaml);
      assert.throws(
        () => createNormalizer({ extraMappings: [join(sub, 'bad.yaml')] }),
        (err: Error) =>
          err instanceof MappingInvalidError &&
          err.code === 'SOC_MAPPING_INVALID' &&
          pattern.test(err.message),
      );
    });
  }

  it('treats raw field names as data: quotes and backslashes in a path cannot break the compiled function', () => {
    const file = join(dir, 'odd', 'json', 'odd.yaml');
    mkdirSync(join(dir, 'odd', 'json'), { recursive: true });
    writeFileSync(file, `fields:\n  message: 'we"ird\\\\key'\n  user: "a'); throw new Error('x'); ('"\n`);
    const normalizer = createNormalizer({ extraMappings: [file] });
    const env = normalizer.normalize(
      {
        source: 'json',
        log_type: 'odd',
        raw: { 'we"ird\\\\key': 'ok', "a'); throw new Error('x'); ('": 'bob' },
      },
      'i',
      0,
    );
    assert.equal(env.normalized.message, 'ok');
    assert.equal(env.normalized.user, 'bob');
  });

  it('gives the same normalized layer for the same WRCCDC rows in Zeek TSV and Zeek JSON', () => {
    const normalizer = createNormalizer();
    const rows = (format: string, path: string) => {
      const parser = parserFor(format).create({});
      const out: unknown[] = [];
      readFileSync(path, 'utf8')
        .split('\n')
        .slice(0, 80)
        .forEach((text, i) => {
          const position = { kind: 'stream', name: format, sequence: i } as const;
          const result = parser.parse({ text, byteLength: text.length, position, receivedAt: 0 });
          if (result.ok)
            for (const p of result.records) out.push(normalizer.normalize(p, 'id', 0).normalized);
        });
      return out;
    };
    const data = new URL('../../../shared/data/', import.meta.url).pathname;
    for (const type of ['dns', 'ssl', 'notice']) {
      const tsv = rows('zeek-tsv', `${data}zeek-tsv/wrccdc2018-zeek6.2/${type}.log`);
      const json = rows('zeek-json', `${data}zeek-json/wrccdc2018-zeek6.2/${type}.json`);
      assert.ok(tsv.length > 20, type);
      assert.deepEqual(tsv, json.slice(0, tsv.length), type);
    }
  });

  it('rejects a mapping path that does not exist', () => {
    assert.throws(() => createNormalizer({ extraMappings: [join(dir, 'nope')] }), MappingInvalidError);
  });

  it('falls back to the source defaults for a log type without its own mapping, and to times only for an unknown source', () => {
    const normalizer = createNormalizer();
    const zeek = normalizer.normalize(
      { source: 'zeek', log_type: 'brand_new', raw: { ts: 2, 'id.orig_h': '10.0.0.1' }, eventTimeMs: 2000 },
      'i',
      5,
    );
    assert.equal(zeek.normalized.src_ip, '10.0.0.1');
    assert.equal(zeek.normalized.event_class, 'network');
    const other = normalizer.normalize({ source: 'mystery', log_type: 'thing', raw: { a: 1 } }, 'i', 5);
    assert.deepEqual(other.normalized, { event_time: 5, ingest_time: 5, event_type: 'thing' });
  });
});
