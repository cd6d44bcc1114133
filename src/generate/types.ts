import type { Prng } from './prng.ts';

/** Formats the generator writes; the names are the parsers' `--format` names (src/parsers). */
export const GEN_FORMATS = [
  'zeek-tsv',
  'zeek-json',
  'suricata-eve',
  'sshd',
  'auth-json',
  'nginx',
  'app-json',
  'threat-json',
] as const;
export type GenFormat = (typeof GEN_FORMATS)[number];

/** One generated log line. `logTypeHint` is the Zeek path / EVE event_type / log family's type. */
export interface GeneratedItem {
  format: GenFormat;
  line: string;
  logTypeHint: string;
  /** Event time of the line, epoch ms. */
  timeMs: number;
  /** The entity downstream state groups by (source IP, else user, else host): a Kafka key. */
  key: string | null;
}

/** What writers need besides their fields. */
export interface WriteContext {
  rng: Prng;
  /** Zeek as TSV (one file per path, with a header) or as JSON lines (self-describing, `_path`). */
  zeek: 'tsv' | 'json';
}
