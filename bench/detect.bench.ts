/**
 * Detection throughput: events/s through `detector.process` — single-event rules, correlations and
 * alert building together — on real events, with (a) the bundled pack (rules/, 12 correlations) and
 * (b) the pack plus the SigmaHQ rules that apply to socstream's logs (rules/network, rules/web,
 * rules/linux). A third row stresses the correlator: sshd failures from many sources (event_count,
 * value_count and temporal_ordered windows all open at once). Events are parsed and normalized once,
 * up front; every timed pass uses a fresh detector (fresh windows) sharing the compiled rules.
 * Run alone: `node bench/detect.bench.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectSchema } from '../src/config/schema.ts';
import type { Envelope } from '../src/core/envelope.ts';
import { createDetector } from '../src/detect/detector.ts';
import { loadRules, type RuleSet } from '../src/detect/sigma/load.ts';
import { createMatcher } from '../src/detect/sigma/matcher.ts';
import { createNormalizer } from '../src/normalize/normalize.ts';
import { createEnvelopeReader } from '../src/pipeline/read-input.ts';
import type { BenchRow } from './types.ts';

const DATA = new URL('../../shared/data/', import.meta.url).pathname;
const RULES = new URL('../rules/', import.meta.url).pathname;
const SIGMA = join(DATA, 'sigma');
const APPLICABLE = ['rules/network', 'rules/web', 'rules/linux'].map((d) => join(SIGMA, d));
const MIN_SECONDS = 0.5;
const BATCH = 1000;

const filesIn = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .map((f) => join(dir, f));

const INPUTS: Array<{ format: string; files: string[] }> = [
  { format: 'zeek-json', files: filesIn(join(DATA, 'zeek-json/wrccdc2018-zeek6.2')) },
  { format: 'suricata-eve', files: [join(DATA, 'suricata/surevego/eve.json')] },
  { format: 'nginx', files: [join(DATA, 'nginx/elastic-examples/apache_logs_combined_sample.log')] },
  { format: 'sshd', files: filesIn(join(DATA, 'auth/crowdsec-hub')) },
];

function read(format: string, file: string, lines: readonly string[]): Envelope[] {
  const reader = createEnvelopeReader({ name: file, format, normalizer, receivedAt: Date.UTC(2026, 0, 1) });
  return reader.read(lines);
}

const normalizer = createNormalizer();

function realEvents(): Envelope[] {
  const out: Envelope[] = [];
  for (const input of INPUTS) {
    for (const file of input.files) {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      out.push(...read(input.format, file, lines));
    }
  }
  // One stream ordered by event time, as a replay would deliver it.
  return out.sort((a, b) => Number(a.normalized.event_time ?? 0) - Number(b.normalized.event_time ?? 0));
}

/** sshd failures from 2,000 sources × 25 attempts (some users repeat, some spray), one success each. */
function bruteForceEvents(): Envelope[] {
  const lines: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const src = `10.${(i % 2000) >> 8}.${i % 256}.${(i % 7) + 1}`;
    const sec = Math.floor(i / 40);
    const t = `Sep 30 ${String(10 + Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const user = i % 3 === 0 ? 'root' : `user${i % 11}`;
    lines.push(
      `${t} bench sshd[${1000 + (i % 500)}]: Failed password for ${user} from ${src} port ${40000 + (i % 20000)} ssh2`,
    );
    if (i % 25 === 24)
      lines.push(
        `${t} bench sshd[${1000 + (i % 500)}]: Accepted password for ${user} from ${src} port 50000 ssh2`,
      );
  }
  return read('sshd', 'bench-bruteforce', lines);
}

function measure(
  ruleSet: RuleSet,
  events: readonly Envelope[],
): { perSecond: number; perCpuSecond: number; alerts: number; matches: number } {
  const matcher = createMatcher(ruleSet.rules);
  const config = detectSchema.parse({});
  const pass = (): { alerts: number; matches: number } => {
    const d = createDetector({ ruleSet, config, matcher });
    let alerts = 0;
    for (let i = 0; i < events.length; i += BATCH) alerts += d.process(events.slice(i, i + BATCH)).length;
    alerts += d.advance().length;
    return { alerts, matches: d.stats().ruleMatches };
  };
  const first = pass(); // warm-up: JIT, matcher index
  let passes = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < MIN_SECONDS) {
    pass();
    passes++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const cpu = process.cpuUsage(cpuStart);
  // CPU seconds as well as wall seconds: on a shared machine the wall figure mostly measures the
  // neighbours; events per CPU-second is the stable one.
  const perCpuSecond = (events.length * passes) / ((cpu.user + cpu.system) / 1e6);
  return { perSecond: (events.length * passes) / elapsed, perCpuSecond, ...first };
}

export async function run(): Promise<BenchRow[]> {
  const pack = loadRules([RULES]);
  const withSigma = loadRules([RULES, ...APPLICABLE]);
  const events = realEvents();
  const attack = bruteForceEvents();
  const rows: BenchRow[] = [];
  const a = measure(pack, events);
  rows.push({
    bench: 'detect',
    metric: 'events/s, bundled pack (real zeek+suricata+nginx+sshd mix)',
    value: Math.round(a.perSecond),
    unit: 'events/s',
    note: `${Math.round(a.perCpuSecond)} events per CPU-second; ${events.length} events, ${pack.rules.length} rules + ${pack.correlations.length} correlations, ${a.matches} matches, ${a.alerts} alert outputs`,
  });
  const b = measure(withSigma, events);
  rows.push({
    bench: 'detect',
    metric: 'events/s, bundled pack + applicable SigmaHQ rules',
    value: Math.round(b.perSecond),
    unit: 'events/s',
    note: `${Math.round(b.perCpuSecond)} events per CPU-second; ${withSigma.rules.length} rules + ${withSigma.correlations.length} correlations, ${b.matches} matches, ${b.alerts} alert outputs`,
  });
  const c = measure(pack, attack);
  rows.push({
    bench: 'detect',
    metric: 'events/s, correlation-heavy (sshd brute force from 2,000 sources)',
    value: Math.round(c.perSecond),
    unit: 'events/s',
    note: `${Math.round(c.perCpuSecond)} events per CPU-second; ${attack.length} events, ${c.matches} matches, ${c.alerts} alert outputs`,
  });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) process.stdout.write(`${JSON.stringify(row)}\n`);
}
