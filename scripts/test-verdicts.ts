/**
 * A test reporter for `npm test` (scripts/test.ts) that counts, per test file, the tests the file
 * declared (`test:enqueue`) against the verdicts that reached the runner (`test:pass` /
 * `test:fail`), and whether the file's own closing summary arrived (`test:summary` with its
 * `file`). Node can lose the tail of a file's report and still exit 0 (nodejs/node#64833, with
 * --test-force-exit); this makes such a loss fail the run instead of shrinking the count.
 * It writes one JSON object (`VerdictReport`) to its destination; `missingVerdicts` reads it.
 */
export interface FileVerdicts {
  /** Tests and suites the file declared, by "nesting name @line:column". */
  declared: Record<string, number>;
  /** Verdicts received, same keys. */
  reported: Record<string, number>;
  /** The file's own summary arrived (it is the last thing a file reports). */
  summary: boolean;
}

export type VerdictReport = Record<string, FileVerdicts>;

interface TestEventData {
  file?: string;
  name?: string;
  nesting?: number;
  line?: number;
  column?: number;
}

function keyOf(d: TestEventData): string {
  return `${d.nesting ?? 0} ${d.name ?? ''} @${d.line ?? 0}:${d.column ?? 0}`;
}

/**
 * The test the runner itself makes for each file, named by the path as given on the command line,
 * carries no verdict of its own when the file reports its tests.
 */
function isFileItself(d: TestEventData): boolean {
  return d.nesting === 0 && d.file !== undefined && d.name !== undefined && d.file.endsWith(d.name);
}

export default async function* verdictReporter(
  source: AsyncIterable<{ type: string; data: TestEventData }>,
): AsyncGenerator<string> {
  const files: VerdictReport = {};
  const entry = (file: string): FileVerdicts => {
    files[file] ??= { declared: {}, reported: {}, summary: false };
    return files[file];
  };
  for await (const { type, data } of source) {
    if (data?.file === undefined) continue;
    if (type === 'test:summary') entry(data.file).summary = true;
    if (isFileItself(data)) continue;
    if (type === 'test:enqueue') {
      const e = entry(data.file);
      e.declared[keyOf(data)] = (e.declared[keyOf(data)] ?? 0) + 1;
    } else if (type === 'test:pass' || type === 'test:fail') {
      const e = entry(data.file);
      e.reported[keyOf(data)] = (e.reported[keyOf(data)] ?? 0) + 1;
    }
  }
  yield `${JSON.stringify(files)}\n`;
}

export interface LostVerdicts {
  file: string;
  problem: string;
}

/**
 * What the report says went missing: declared tests without a verdict, and files that were run
 * but whose summary never arrived. Files are matched by absolute path.
 */
export function missingVerdicts(report: VerdictReport, filesRun: readonly string[]): LostVerdicts[] {
  const problems: LostVerdicts[] = [];
  for (const file of filesRun) {
    const r = report[file];
    if (r === undefined) {
      problems.push({
        file,
        problem: 'nothing of it reported, not even its closing summary (its whole report was lost)',
      });
      continue;
    }
    const lost: string[] = [];
    for (const [key, count] of Object.entries(r.declared)) {
      const got = r.reported[key] ?? 0;
      if (got < count) lost.push(`${key.replace(/^\d+ /, '')}${count > 1 ? ` (${got} of ${count})` : ''}`);
    }
    if (lost.length > 0)
      problems.push({
        file,
        problem: `${lost.length} declared test(s) without a verdict: ${lost.join('; ')}`,
      });
    if (!r.summary)
      problems.push({ file, problem: 'its closing summary never arrived (the end of its report was lost)' });
  }
  return problems;
}
