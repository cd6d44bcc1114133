import type { InputRecord } from '../../src/core/envelope.ts';
import { createGenerator, type GeneratorOptions } from '../../src/generate/generator.ts';
import type { GeneratedItem } from '../../src/generate/types.ts';

export const START = Date.parse('2026-01-31T10:00:00Z');

export function take(options: Partial<GeneratorOptions> & Pick<GeneratorOptions, 'scenario'>, n: number) {
  const g = createGenerator({ seed: 1, startMs: START, ...options });
  const items: GeneratedItem[] = [];
  for (let i = 0; i < n; i++) items.push(g.nextItem());
  return { items, truth: g.truth(), generator: g };
}

let sequence = 0;
export function inputRecord(text: string, formatHint?: string): InputRecord {
  return {
    text,
    byteLength: Buffer.byteLength(text),
    position: { kind: 'stream', name: 'generator-test', sequence: sequence++ },
    formatHint,
    receivedAt: START,
  };
}
