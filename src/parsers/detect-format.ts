import type { ParserDefinition } from './parser.ts';
import { PARSERS } from './registry.ts';

/** Below this confidence no format is claimed (the caller rejects the lines as unknown_format). */
export const MIN_CONFIDENCE = 0.3;

/**
 * The format of a file or stream from its first lines: each definition scores the sample
 * (0..1), the best score above MIN_CONFIDENCE wins; ties go to the earlier, more specific
 * definition in PARSERS (generic `json` is last). `settingsOf` gives a format's configured
 * settings, so a custom layout (nginx `log_format`) is recognised too.
 */
export function detectFormat(
  sampleLines: readonly string[],
  settingsOf?: (def: ParserDefinition) => Record<string, unknown> | undefined,
): string | undefined {
  let best: string | undefined;
  let bestScore = MIN_CONFIDENCE;
  for (const def of PARSERS) {
    let score = 0;
    try {
      score = def.detect(sampleLines, settingsOf?.(def));
    } catch {
      score = 0; // a detector must never break detection for the others
    }
    if (score > bestScore) {
      best = def.format;
      bestScore = score;
    }
  }
  return best;
}
