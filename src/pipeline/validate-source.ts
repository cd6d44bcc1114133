import { SOURCES } from '../components.ts';
import { configErrorFromIssues } from '../core/config-issues.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * `sources` entries pass the top-level schema as `{ type, ...anything }`; this checks one entry
 * against its type's own schema, so an error names `sources[i].key` in the user's file.
 * Returns the parsed config (defaults applied) for `SOURCES.get(type).create()`.
 */
export function validateSourceConfig(entry: unknown, index: number, file: string): Record<string, unknown> {
  const type = entry && typeof entry === 'object' ? (entry as { type?: unknown }).type : undefined;
  const definition = typeof type === 'string' ? SOURCES.get(type) : undefined;
  if (!definition) {
    const known = SOURCES.types()
      .map((t) => JSON.stringify(t))
      .join(', ');
    throw new ConfigError(
      `invalid config\n  ${file}: sources[${index}].type: unknown source type ${JSON.stringify(type)}. Fix: use one of: ${known} (docs/sources.md)`,
    );
  }
  const result = definition.config.safeParse(entry);
  if (!result.success) throw configErrorFromIssues(file, result.error.issues, ['sources', index]);
  return result.data as Record<string, unknown>;
}
