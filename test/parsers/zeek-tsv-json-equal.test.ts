/**
 * The WRCCDC 2018 Zeek 6.2 logs exist as TSV and as JSON, row-aligned (../shared/data/SOURCES.md).
 * Both parsers must give identical raw records, log types and event times. The JSON writer adds
 * `_path` and `_write_ts` (writer metadata, no TSV column), which are left out of the comparison.
 *
 * One real difference remains, and it is the TSV format's, not ours: a set holding one empty
 * string is written as `(empty)`, the same marker as an empty set, so TSV gives [] where JSON
 * gives [""] (known_services.service). The test pins exactly that.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { ParsedRecord } from '../../src/core/envelope.ts';
import type { ParserDefinition } from '../../src/parsers/parser.ts';
import { zeekJson } from '../../src/parsers/zeek-json.ts';
import { zeekTsv } from '../../src/parsers/zeek-tsv.ts';

const TSV_DIR = new URL('../../../shared/data/zeek-tsv/wrccdc2018-zeek6.2/', import.meta.url).pathname;
const JSON_DIR = new URL('../../../shared/data/zeek-json/wrccdc2018-zeek6.2/', import.meta.url).pathname;
const WRITER_METADATA = ['_path', '_write_ts', '_system_name'];

function parseAll(def: ParserDefinition, path: string): ParsedRecord[] {
  const parser = def.create();
  const out: ParsedRecord[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const r = parser.parse({
        text,
        byteLength: text.length,
        position: { kind: 'stream', name: 't', sequence: i },
        receivedAt: 0,
      });
      assert.ok(r.ok, `${path}:${i + 1} rejected: ${!r.ok && r.reason}`);
      out.push(...r.records);
    });
  return out;
}

describe('Zeek TSV and JSON of the same rows', { skip: !existsSync(TSV_DIR) && 'no ../shared/data' }, () => {
  const logs = existsSync(TSV_DIR) ? readdirSync(TSV_DIR).map((f) => f.replace(/\.log$/, '')) : [];
  for (const log of logs) {
    test(`${log}: identical raw records, log type and event time`, () => {
      const tsv = parseAll(zeekTsv, `${TSV_DIR}${log}.log`);
      const json = parseAll(zeekJson, `${JSON_DIR}${log}.json`);
      assert.equal(tsv.length, json.length);
      assert.ok(tsv.length > 0);
      let emptySetAmbiguities = 0;
      for (let i = 0; i < tsv.length; i++) {
        const j = { ...json[i].raw };
        for (const k of WRITER_METADATA) delete j[k];
        const t = tsv[i].raw;
        if (
          log === 'known_services' &&
          isDeepStrictEqual(j.service, ['']) &&
          isDeepStrictEqual(t.service, [])
        ) {
          emptySetAmbiguities++;
          j.service = [];
        }
        assert.deepEqual(t, j, `${log} row ${i + 1}`);
        assert.equal(tsv[i].log_type, json[i].log_type);
        assert.equal(tsv[i].eventTimeMs, json[i].eventTimeMs);
      }
      if (log === 'known_services') assert.equal(emptySetAmbiguities, 1035);
    });
  }
});
