/**
 * Self time per function of a V8 .cpuprofile (node --cpu-prof, or the engine bench's
 * SOCSTREAM_BENCH_CPU_PROFILE): `node scripts/cpuprofile-top.ts FILE [N]` prints the N (default 30)
 * functions with the most self time, then the share per source file. Samples in node:inspector
 * (the profiler's own work when started from the process, e.g. building the profile at stop) are
 * left out of the total.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '30'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/cpuprofile-top.ts FILE [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const micros = profile.timeDeltas[i] ?? 0;
  const frame = (nodes.get(id) as ProfileNode).callFrame;
  if (frame.url.startsWith('node:inspector')) return;
  const where = frame.url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/') || '(native)';
  const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  byFile.set(where, (byFile.get(where) ?? 0) + micros);
  total += micros;
});
const rows = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, v]) =>
        `${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    )
    .join('\n');
process.stdout.write(
  `${(total / 1000).toFixed(0)} ms sampled\n${rows(byFunction, Number(top))}\n\nby file\n${rows(byFile, 15)}\n`,
);
