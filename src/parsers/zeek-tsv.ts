import { z } from 'zod';
import type { Fields, InputRecord } from '../core/envelope.ts';
import { accept, isBlank, looksBinary, type RejectReason, reject, SKIPPED } from './common.ts';
import type { ParseResult, Parser, ParserDefinition, ParserOptions } from './parser.ts';
import { decodeAllEscapes, decodeZeekTsvEscapes, roundMicros } from './zeek-escapes.ts';

/**
 * Zeek's ASCII (TSV) writer. The header (`#separator`, `#set_separator`, `#empty_field`,
 * `#unset_field`, `#path`, `#fields`, `#types`) is obeyed and may change mid-stream (a new header
 * block after log rotation or `cat a.log b.log`). Values are typed per `#types`:
 * time/interval/double/count/int/port → number, bool → boolean, set[...]/vector[...] → array
 * (`#empty_field` → []), the unset marker → the field is absent; `\xNN` escapes are decoded.
 */

export const zeekTsvSettings = z
  .object({
    fields: z.array(z.string()).optional().describe('Field names for header-less logs (like #fields)'),
    types: z
      .array(z.string())
      .optional()
      .describe('Zeek types for header-less logs (like #types); default string'),
    separator: z.string().default('\t').describe('Field separator for header-less logs'),
    set_separator: z
      .string()
      .default(',')
      .describe('Set separator for header-less logs (like #set_separator)'),
    empty_field: z
      .string()
      .default('(empty)')
      .describe('Empty-field marker for header-less logs (like #empty_field)'),
    unset_field: z
      .string()
      .default('-')
      .describe('Unset-field marker for header-less logs (like #unset_field)'),
    path: z.string().optional().describe('Log type for header-less logs (like #path)'),
  })
  .strict();

// Column kinds: small integers so the per-line loop is one switch.
const STRING = 0;
const TIME = 1;
const NUMBER = 2;
const BOOL = 3;
const CONTAINER = 4;

function kindOf(zeekType: string): number {
  switch (zeekType) {
    case 'time':
      return TIME;
    case 'interval':
    case 'double':
    case 'count':
    case 'int':
    case 'port':
      return NUMBER;
    case 'bool':
      return BOOL;
    default:
      return zeekType.startsWith('set[') || zeekType.startsWith('vector[') ? CONTAINER : STRING;
  }
}

function elementKindOf(zeekType: string): number {
  const open = zeekType.indexOf('[');
  return open === -1 ? STRING : kindOf(zeekType.slice(open + 1, -1));
}

/** A compiled header: everything the per-line loop needs, computed once per header block. */
interface Layout {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  path: string | undefined;
  names: string[];
  kinds: number[];
  elementKinds: number[];
  /** Column whose value is the event time (`ts`, else the first `time` column), or -1. */
  timeColumn: number;
  /** Column named `__proto__` (defined, not assigned, so it stays data), or -1. */
  protoColumn: number;
}

function compile(layout: Layout, types: readonly string[] | undefined): void {
  const n = layout.names.length;
  layout.kinds = new Array<number>(n);
  layout.elementKinds = new Array<number>(n);
  layout.timeColumn = -1;
  for (let i = 0; i < n; i++) {
    const t = types?.[i] ?? 'string';
    layout.kinds[i] = kindOf(t);
    layout.elementKinds[i] = elementKindOf(t);
  }
  const ts = layout.names.indexOf('ts');
  layout.timeColumn = ts !== -1 && layout.kinds[ts] === TIME ? ts : layout.kinds.indexOf(TIME);
  layout.protoColumn = layout.names.indexOf('__proto__');
}

const NON_FINITE = new Set(['inf', '-inf', 'nan']);

/** Converts one scalar; undefined when the text does not fit the type. */
function scalar(text: string, kind: number): unknown {
  switch (kind) {
    case TIME: {
      if (text.length === 0) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? roundMicros(n) : undefined;
    }
    case NUMBER: {
      if (text.length === 0) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case BOOL:
      return text === 'T' ? true : text === 'F' ? false : undefined;
    default:
      return decodeZeekTsvEscapes(text);
  }
}

/**
 * A column named `__proto__` (possible: field names come from the file) is defined as an own
 * property, like JSON.parse does; assigning it would change the record's prototype instead.
 */
function defineProto(raw: Fields, layout: Layout, value: string): void {
  if (value === layout.unsetField) return;
  const v = value === layout.emptyField ? '' : decodeZeekTsvEscapes(value);
  Object.defineProperty(raw, '__proto__', { value: v, enumerable: true, writable: true, configurable: true });
}

class ZeekTsvParser implements Parser {
  readonly format = 'zeek-tsv';
  private layout: Layout | undefined;
  private readonly fallbackLogType: string;
  private pendingTypes: string[] | undefined;

  constructor(options: ParserOptions) {
    const settings = zeekTsvSettings.parse(options.settings ?? {});
    // Only rows of the configured columns use it (`#path` names every other row's type).
    this.fallbackLogType = settings.path ?? options.logType ?? options.nameLogType ?? 'unknown';
    if (settings.fields) {
      const layout = this.emptyLayout();
      layout.separator = settings.separator;
      layout.setSeparator = settings.set_separator;
      layout.emptyField = settings.empty_field;
      layout.unsetField = settings.unset_field;
      layout.path = settings.path;
      layout.names = settings.fields;
      compile(layout, settings.types);
      this.layout = layout;
    }
  }

  private emptyLayout(): Layout {
    return {
      separator: '\t',
      setSeparator: ',',
      emptyField: '(empty)',
      unsetField: '-',
      path: undefined,
      names: [],
      kinds: [],
      elementKinds: [],
      timeColumn: -1,
      protoColumn: -1,
    };
  }

  parse(record: InputRecord): ParseResult {
    const text = record.text;
    if (text.length === 0 || isBlank(text)) return SKIPPED;
    if (text.charCodeAt(0) === 35 /* # */) return this.header(text);
    const layout = this.layout;
    if (layout === undefined || layout.names.length === 0) {
      return reject(looksBinary(text) ? 'binary_data' : 'no_header', 'no #fields header before this line');
    }
    return this.row(text, layout);
  }

  /** `#separator \x09` is the only header line with a space; the others use the separator. */
  private header(text: string): ParseResult {
    if (text.startsWith('#separator ')) {
      const layout = this.emptyLayout();
      layout.separator = decodeAllEscapes(text.slice('#separator '.length));
      this.layout = layout;
      this.pendingTypes = undefined;
      return SKIPPED;
    }
    if (this.layout === undefined) this.layout = this.emptyLayout();
    const layout = this.layout;
    const sep = layout.separator;
    const cut = text.indexOf(sep);
    if (cut === -1) return SKIPPED; // #open/#close use a space in some writers; nothing to learn
    const key = text.slice(1, cut);
    const value = text.slice(cut + sep.length);
    switch (key) {
      case 'set_separator':
        layout.setSeparator = decodeAllEscapes(value);
        break;
      case 'empty_field':
        layout.emptyField = value;
        break;
      case 'unset_field':
        layout.unsetField = value;
        break;
      case 'path':
        layout.path = value;
        break;
      case 'fields':
        layout.names = value.split(sep);
        compile(layout, this.pendingTypes);
        break;
      case 'types':
        this.pendingTypes = value.split(sep);
        compile(layout, this.pendingTypes);
        break;
      default:
        break; // #open, #close and unknown meta lines carry no event
    }
    return SKIPPED;
  }

  private row(text: string, layout: Layout): ParseResult {
    const values = text.split(layout.separator);
    const n = layout.names.length;
    if (values.length !== n) {
      return reject('field_count_mismatch', `expected ${n} fields, got ${values.length}`);
    }
    const raw: Fields = {};
    const { names, kinds, unsetField, emptyField } = layout;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === unsetField || i === layout.protoColumn) continue; // unset → absent (a literal "-" is \x2d)
      const kind = kinds[i];
      if (kind === CONTAINER) {
        if (v === emptyField) {
          raw[names[i]] = [];
          continue;
        }
        const parts = v.split(layout.setSeparator);
        const elementKind = layout.elementKinds[i];
        const out = new Array<unknown>(parts.length);
        for (let j = 0; j < parts.length; j++) {
          const part = parts[j];
          if (part === unsetField) {
            out[j] = null;
            continue;
          }
          const converted = scalar(part, elementKind);
          if (converted === undefined) return this.badValue(elementKind, names[i], part);
          out[j] = converted;
        }
        raw[names[i]] = out;
        continue;
      }
      if (kind === STRING) {
        raw[names[i]] = v === emptyField ? '' : decodeZeekTsvEscapes(v);
        continue;
      }
      const converted = scalar(v, kind);
      if (converted === undefined) {
        // inf/-inf/nan: JSON cannot carry them and Zeek's own JSON writer emits null; leave absent.
        if (kind === NUMBER && NON_FINITE.has(v)) continue;
        return this.badValue(kind, names[i], v);
      }
      raw[names[i]] = converted;
    }
    if (layout.protoColumn !== -1) defineProto(raw, layout, values[layout.protoColumn]);
    const tc = layout.timeColumn;
    const ts = tc === -1 ? undefined : (raw[names[tc]] as number | undefined);
    return accept(
      'zeek',
      layout.path ?? this.fallbackLogType,
      raw,
      ts === undefined ? undefined : Math.round(ts * 1000),
    );
  }

  private badValue(kind: number, name: string, value: string): ParseResult {
    const reason: RejectReason = kind === TIME ? 'bad_timestamp' : 'bad_value';
    return reject(reason, `${name}=${value.slice(0, 40)}`);
  }
}

export const zeekTsv: ParserDefinition = {
  format: 'zeek-tsv',
  source: 'zeek',
  summary: 'Zeek ASCII logs (TSV with #separator/#fields/#types header), typed per #types',
  settings: zeekTsvSettings,
  detect(sampleLines) {
    const first = sampleLines.find((l) => !isBlank(l));
    if (first === undefined) return 0;
    if (first.startsWith('#separator ')) return 1;
    if (first.startsWith('#fields') || first.startsWith('#path')) return 0.9;
    return 0;
  },
  create(options = {}) {
    return new ZeekTsvParser(options);
  },
};
