/**
 * parse → normalize → enrich throughput, in memory (no I/O), one event at a time as the pipeline
 * runs it: parser.parse, Normalizer.normalize, Enricher.enrich (network + time + IOC + assets with
 * the mapping's enrichment set; IOC: 1,000 indicators incl. CIDRs and domains; assets: 100 rows).
 * Run alone: `node bench/normalize.bench.ts`.
 *
 * Inputs: Zeek conn JSON is SYNTHESIZED (the WRCCDC sample has no conn.log): 5,000 distinct lines
 * with the field set of Zeek's conn.log documentation (ts, uid, id.*, proto, service, duration,
 * bytes, conn_state, history, packets), addresses drawn from 10.0.0.0/16 and public ranges so the
 * per-IP caches see a realistic spread. Suricata EVE is the real surevego eve.json (266 events:
 * alert, dns, fileinfo, flow, http, stats). Also the WRCCDC Zeek dns.json (real).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrichSchema } from '../src/config/schema.ts';
import type { InputRecord } from '../src/core/envelope.ts';
import { eventId } from '../src/core/ids.ts';
import { createLogger } from '../src/core/logger.ts';
import { createEnricher } from '../src/enrich/enricher.ts';
import { createNormalizer } from '../src/normalize/normalize.ts';
import { parserFor } from '../src/parsers/registry.ts';
import type { BenchRow } from './types.ts';

const DATA = new URL('../../shared/data/', import.meta.url).pathname;
const MIN_SECONDS = 1;

/** Deterministic pseudo-random numbers (mulberry32) so every run measures the same lines. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function synthesizeConnLines(count: number, seed = 1): string[] {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const lines: string[] = [];
  let ts = 1_769_868_799.213927;
  for (let i = 0; i < count; i++) {
    ts += r() * 0.01;
    const outbound = r() < 0.7;
    const inside = `10.0.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    const outside = `${pick([8, 23, 52, 104, 142, 172, 185, 216])}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    const proto = pick(['tcp', 'tcp', 'tcp', 'udp', 'icmp']);
    const [service, port] = pick([
      ['ssl', 443],
      ['http', 80],
      ['dns', 53],
      ['ssh', 22],
      ['-', 8443],
    ] as const);
    const rec: Record<string, unknown> = {
      ts: Number(ts.toFixed(6)),
      uid: `C${Math.floor(r() * 2 ** 52).toString(36)}`,
      'id.orig_h': outbound ? inside : outside,
      'id.orig_p': proto === 'icmp' ? 8 : 1024 + Math.floor(r() * 60_000),
      'id.resp_h': outbound ? outside : inside,
      'id.resp_p': proto === 'icmp' ? 0 : port,
      proto,
      duration: Number((r() * 30).toFixed(6)),
      orig_bytes: Math.floor(r() * 10_000),
      resp_bytes: Math.floor(r() * 100_000),
      conn_state: pick(['SF', 'S0', 'REJ', 'RSTO', 'SH']),
      local_orig: outbound,
      local_resp: !outbound,
      missed_bytes: 0,
      history: pick(['ShADadFf', 'S', 'ShR', 'Dd']),
      orig_pkts: 1 + Math.floor(r() * 50),
      orig_ip_bytes: Math.floor(r() * 12_000),
      resp_pkts: Math.floor(r() * 80),
      resp_ip_bytes: Math.floor(r() * 120_000),
    };
    if (service !== '-' && proto !== 'icmp') rec.service = service;
    lines.push(JSON.stringify({ _path: 'conn', ...rec }));
  }
  return lines;
}

function iocAndAssets(dir: string): { iocPath: string; assetsPath: string } {
  const r = random(7);
  const ioc: string[] = [];
  for (let i = 0; i < 700; i++)
    ioc.push(
      `${52 + Math.floor(r() * 100)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
    );
  for (let i = 0; i < 100; i++) ioc.push(`${100 + Math.floor(r() * 100)}.${Math.floor(r() * 256)}.0.0/16`);
  for (let i = 0; i < 200; i++) ioc.push(`bad${i}.example.net`);
  const iocPath = join(dir, 'ioc.txt');
  writeFileSync(iocPath, `${ioc.join('\n')}\n`);
  const assets = ['ip_or_cidr,name,owner,criticality,tags'];
  for (let i = 0; i < 100; i++)
    assets.push(`10.0.${i}.0/24,net-${i},team-${i % 7},${i % 3 ? 'low' : 'high'},lab`);
  const assetsPath = join(dir, 'assets.csv');
  writeFileSync(assetsPath, `${assets.join('\n')}\n`);
  return { iocPath, assetsPath };
}

async function measure(
  format: string,
  lines: readonly string[],
  dir: string,
  withLists = true,
): Promise<{ eventsPerSecond: number; events: number }> {
  const { iocPath, assetsPath } = iocAndAssets(dir);
  const normalizer = createNormalizer();
  const enricher = createEnricher(
    enrichSchema.parse(
      withLists
        ? { home_networks: ['10.0.0.0/8'], ioc: [{ name: 'bench', path: iocPath }], assets: assetsPath }
        : { home_networks: ['10.0.0.0/8'] },
    ),
    { logger: createLogger({ level: 'silent', destination: process.stderr }) },
  );
  await enricher.start();
  const records: InputRecord[] = lines.map((text, i) => ({
    text,
    byteLength: text.length,
    position: { kind: 'stream', name: 'bench', sequence: i },
    receivedAt: 1_770_000_000_000,
  }));
  let events = 0;
  let sink = 0;
  const pass = () => {
    const parser = parserFor(format).create({});
    for (const record of records) {
      const result = parser.parse(record);
      if (!result.ok) continue;
      for (const parsed of result.records) {
        const env = normalizer.normalize(parsed, eventId(record.position), record.receivedAt);
        enricher.enrich(env, normalizer.enrichmentsFor(env.source, env.log_type));
        sink += Object.keys(env.enriched).length;
        events++;
      }
    }
  };
  pass(); // warm-up: JIT, per-IP caches
  events = 0;
  // CPU time of this process, not wall time: the bench machine is shared, and events per
  // CPU-second is what one core sustains.
  const cpuStart = process.cpuUsage();
  let cpuSeconds = 0;
  do {
    pass();
    const used = process.cpuUsage(cpuStart);
    cpuSeconds = (used.user + used.system) / 1e6;
  } while (cpuSeconds < MIN_SECONDS);
  await enricher.stop();
  if (sink === 0) throw new Error('nothing was enriched');
  return { eventsPerSecond: events / cpuSeconds, events };
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-bench-normalize-'));
  try {
    const inputs = [
      {
        name: 'zeek conn JSON (synthesized, 5,000 distinct lines)',
        format: 'zeek-json',
        lines: synthesizeConnLines(5000),
      },
      {
        name: 'suricata EVE (surevego eve.json, real)',
        format: 'suricata-eve',
        lines: readFileSync(`${DATA}suricata/surevego/eve.json`, 'utf8').split('\n').filter(Boolean),
      },
      {
        name: 'zeek dns JSON (WRCCDC, real)',
        format: 'zeek-json',
        lines: readFileSync(`${DATA}zeek-json/wrccdc2018-zeek6.2/dns.json`, 'utf8')
          .split('\n')
          .filter(Boolean),
      },
    ];
    const rows: BenchRow[] = [];
    for (const input of inputs) {
      const { eventsPerSecond, events } = await measure(input.format, input.lines, dir);
      rows.push({
        bench: 'normalize',
        metric: `parse+normalize+enrich ${input.name} events/s`,
        value: Math.round(eventsPerSecond),
        unit: 'events/s',
        note: `${events} events in ≥${MIN_SECONDS} CPU-s (per CPU-second of one core); IOC 1,000 indicators, 100 assets`,
      });
    }
    const conn = await measure('zeek-json', inputs[0].lines, dir, false);
    rows.push({
      bench: 'normalize',
      metric: 'parse+normalize+enrich zeek conn JSON (synthesized), network+time only, events/s',
      value: Math.round(conn.eventsPerSecond),
      unit: 'events/s',
      note: `${conn.events} events in ≥${MIN_SECONDS} CPU-s; no IOC lists, no asset table`,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const row of await run()) console.log(`${row.metric}: ${row.value} ${row.unit} (${row.note})`);
}
