import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { SourceUnavailableError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { parserFor } from '../parsers/registry.ts';
import { buildEngine } from '../pipeline/build.ts';
import { fileInput, type InputSpec, processInput, ReadStats, stdinInput } from '../pipeline/read-input.ts';
import { deadLetterRecord } from '../sinks/dlq-record.ts';
import { checkInputFiles } from './inputs.ts';
import { action } from './run-action.ts';

/**
 * `socstream parse [--format F] [--config C] [--stats] [FILE...|-]`: envelopes as NDJSON on stdout,
 * rejects as dead-letter records (JSON lines) on stderr (they are data: exit 0), `--stats` adds one
 * JSON line of counts per log type and per reject reason. Input is read by the pipeline's one front
 * half (src/pipeline/read-input.ts): the ids, envelopes and rejects are the ones `socstream run`
 * gives the same file.
 */

/** Reject text kept on stderr, in UTF-8 bytes. */
export const REJECT_TEXT_BYTES = 512;

/** The reader of our output went away (`socstream parse big.log | head`): stop quietly, exit 0. */
class OutputClosed extends Error {}

/**
 * Writes NDJSON with backpressure: lines are batched into ~64 KB writes, and a full pipe is
 * waited on. A closed pipe (EPIPE) ends the run like any Unix filter instead of crashing.
 */
class NdjsonWriter {
  private buffer = '';
  private closed = false;
  private readonly out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
    out.on('error', () => {
      this.closed = true;
    });
  }
  line(value: unknown): void {
    this.buffer += `${JSON.stringify(value)}\n`;
  }
  get size(): number {
    return this.buffer.length;
  }
  async flush(): Promise<void> {
    if (this.closed) throw new OutputClosed();
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.out.off('error', done);
          resolve();
        };
        this.out.once('drain', done);
        this.out.once('close', done);
        this.out.once('error', done);
      });
    }
    if (this.closed) throw new OutputClosed();
  }
}

interface CliOptions {
  format?: string;
  config?: string;
  stats?: boolean;
}

export async function runParse(files: string[], opts: CliOptions, process_ = process): Promise<number> {
  if (opts.format !== undefined) parserFor(opts.format.split(':', 1)[0]); // unknown format → UsageError (exit 2)
  const config = loadConfig(opts.config);
  const inputs = files.length === 0 ? ['-'] : files;
  checkInputFiles(inputs);
  // Rejects are the stderr NDJSON; enrichment logs only warnings (an IOC list that failed to reload).
  const logger = createLogger({ level: 'warn', pretty: false });
  const engine = buildEngine(config, { logger }, opts.config ?? '(defaults)');
  const out = new NdjsonWriter(process_.stdout);
  const err = new NdjsonWriter(process_.stderr);
  const stats = new ReadStats();
  await engine.enricher.start();
  try {
    for (const input of inputs) {
      let spec: InputSpec;
      let stream: NodeJS.ReadableStream;
      if (input === '-') {
        spec = stdinInput(opts.format);
        stream = process_.stdin;
      } else {
        const file = fileInput(input, opts.format);
        spec = file.spec;
        stream = file.open();
      }
      try {
        const outputs = processInput(stream as AsyncIterable<Buffer>, spec, engine.processor, stats, {
          maxLineBytes: config.parsers.max_line_bytes,
        });
        for await (const o of outputs) {
          // --stats answers what a file gives: the counts, not every event (issue 17).
          if (!opts.stats) for (const env of o.envelopes) out.line(env);
          for (const r of o.rejects) err.line(deadLetterRecord(r, REJECT_TEXT_BYTES));
          // Output backpressure, once per chunk of input.
          if (out.size > 65_536) await out.flush();
          if (err.size > 65_536) await err.flush();
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A read error (EACCES, EIO) is the input's, not a bug: one line, exit 1.
        if (typeof code === 'string' && code.startsWith('E') && !(e instanceof OutputClosed)) {
          throw new SourceUnavailableError(`cannot read ${input}: ${code}`, { cause: e });
        }
        throw e;
      }
      await out.flush();
      await err.flush();
    }
    if (opts.stats) out.line({ stats: stats.toJSON() });
    await out.flush();
    await err.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  } finally {
    await engine.enricher.stop();
  }
  return 0;
}

export function register(program: Command): void {
  program
    .command('parse')
    .description('Parse log files (or stdin) into envelopes: NDJSON on stdout, rejects as JSON on stderr')
    .option('-f, --format <format>', 'input format (default: detected per file from its first lines)')
    .option('-c, --config <file>', 'socstream.yaml: parsers.settings and parsers.max_line_bytes')
    .option(
      '--stats',
      'print only the counts per log type and reject reason (one JSON line on stdout) instead of the events',
    )
    .argument('[files...]', 'files to parse; - or nothing reads stdin')
    .action(action(async (files: string[], opts: CliOptions) => runParse(files, opts)));
}
