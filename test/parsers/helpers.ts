import type { ParsedRecord } from '../../src/core/envelope.ts';
import type { ParseResult, ParserDefinition, ParserOptions } from '../../src/parsers/parser.ts';

/** Feeds lines to one parser instance (state carries over) and returns every verdict. */
export function feed(
  def: ParserDefinition,
  lines: readonly string[],
  options: ParserOptions = {},
): ParseResult[] {
  const parser = def.create(options);
  return lines.map((text, i) =>
    parser.parse({
      text,
      byteLength: Buffer.byteLength(text),
      position: { kind: 'stream', name: 't', sequence: i },
      receivedAt: 0,
    }),
  );
}

/** The single record of an accepted line; throws (failing the test) on anything else. */
export function one(result: ParseResult): ParsedRecord {
  if (!result.ok || result.records.length !== 1)
    throw new Error(`expected one record, got ${JSON.stringify(result)}`);
  return result.records[0];
}

/** The reject reason of a line, or 'ok' / 'skip'. */
export function verdict(result: ParseResult): string {
  if (!result.ok) return result.reason;
  return result.records.length === 0 ? 'skip' : 'ok';
}
