/**
 * SQL literal quoting shared by every module that builds DuckDB or PostgreSQL text
 * (lake writer, compaction, lake queries, the Postgres alert store).
 * Both dialects follow the SQL standard here: a quote inside is written twice.
 */

/** A string literal: `'o''brien'`. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted identifier (column and schema names may come from data or config): `"a""b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
