import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { USERS } from '../../src/generate/entities.ts';
import { SCENARIO_NAMES } from '../../src/generate/scenarios/index.ts';
import type { GeneratedItem } from '../../src/generate/types.ts';
import { ZEEK_LOGS, type ZeekPath, zeekTsvHeader } from '../../src/generate/zeek.ts';
import type { Parser } from '../../src/parsers/parser.ts';
import { parserFor } from '../../src/parsers/registry.ts';
import { inputRecord, START, take } from './helpers.ts';

const text = (items: GeneratedItem[]) => items.map((i) => i.line).join('\n');

/** Parses every item with the real parser for its format (one parser per stream, headers first). */
function parseAll(items: GeneratedItem[]) {
  const parsers = new Map<string, Parser>();
  const results = [];
  for (const it of items) {
    const stream = it.format === 'zeek-tsv' ? `zeek-tsv:${it.logTypeHint}` : it.format;
    let p = parsers.get(stream);
    if (!p) {
      p = parserFor(it.format).create({ referenceTimeMs: it.timeMs });
      parsers.set(stream, p);
      if (it.format === 'zeek-tsv')
        for (const h of zeekTsvHeader(it.logTypeHint as ZeekPath, START).split('\n')) p.parse(inputRecord(h));
    }
    results.push({ item: it, result: p.parse(inputRecord(it.line, it.format)) });
  }
  return results;
}

describe('generator determinism', () => {
  test('the same seed gives byte-identical output, for every scenario', () => {
    for (const scenario of SCENARIO_NAMES) {
      const a = take({ scenario, seed: 42 }, 3000);
      const b = take({ scenario, seed: 42 }, 3000);
      assert.equal(text(a.items), text(b.items), scenario);
      assert.deepEqual(a.truth, b.truth, scenario);
    }
  });

  test('a different seed gives different output', () => {
    assert.notEqual(
      text(take({ scenario: 'mixed', seed: 1 }, 500).items),
      text(take({ scenario: 'mixed', seed: 2 }, 500).items),
    );
  });
});

describe('generated lines are real formats', () => {
  for (const zeek of ['json', 'tsv'] as const) {
    test(`every mixed line (Zeek ${zeek}) parses with the real parser into one record of its log type`, () => {
      const { items } = take({ scenario: 'mixed', zeek, seed: 9 }, 40_000);
      const formats = new Set<string>();
      for (const { item, result } of parseAll(items)) {
        assert.ok(result.ok, `${item.format} rejected: ${JSON.stringify(result)} ${item.line}`);
        assert.equal(result.records.length, 1, item.line);
        const family = item.format.startsWith('zeek')
          ? 'zeek'
          : item.format === 'suricata-eve'
            ? 'suricata'
            : null;
        if (family) assert.equal(result.records[0].log_type, item.logTypeHint, item.line);
        assert.ok(Math.abs((result.records[0].eventTimeMs ?? item.timeMs) - item.timeMs) < 1000, item.line);
        formats.add(item.format);
      }
      const expected = [
        'suricata-eve',
        'sshd',
        'auth-json',
        'nginx',
        'app-json',
        'threat-json',
        `zeek-${zeek}`,
      ];
      assert.deepEqual([...formats].sort(), expected.sort());
    });
  }

  test('any seed, any scenario, either Zeek layout: every line parses (property)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(...SCENARIO_NAMES),
        fc.constantFrom('json' as const, 'tsv' as const),
        (seed, scenario, zeek) => {
          for (const { item, result } of parseAll(take({ scenario, zeek, seed }, 1500).items))
            assert.ok(result.ok && result.records.length === 1, `${scenario} seed ${seed}: ${item.line}`);
        },
      ),
      { numRuns: 25 },
    );
  });

  test('Zeek TSV and Zeek JSON of the same seed parse to identical raw records', () => {
    const tsv = parseAll(take({ scenario: 'mixed', zeek: 'tsv', seed: 3 }, 20_000).items);
    const json = parseAll(take({ scenario: 'mixed', zeek: 'json', seed: 3 }, 20_000).items);
    let compared = 0;
    for (let i = 0; i < tsv.length; i++) {
      if (tsv[i].item.format !== 'zeek-tsv') continue;
      const a = tsv[i].result;
      const b = json[i].result;
      assert.ok(a.ok && b.ok);
      const rawB = { ...b.records[0].raw };
      delete rawB._path;
      delete rawB._write_ts;
      assert.deepEqual(a.records[0].raw, rawB, tsv[i].item.line);
      compared++;
    }
    assert.ok(compared > 10_000);
  });

  test('every Zeek TSV line has as many fields as its #fields header', () => {
    const { items } = take({ scenario: 'mixed', zeek: 'tsv' }, 20_000);
    for (const it of items.filter((i) => i.format === 'zeek-tsv'))
      assert.equal(it.line.split('\t').length, ZEEK_LOGS[it.logTypeHint as ZeekPath].length, it.line);
  });

  test('every JSON format line is one JSON object', () => {
    const { items } = take({ scenario: 'mixed' }, 20_000);
    for (const it of items.filter((i) => i.format.endsWith('json') || i.format === 'suricata-eve')) {
      const v = JSON.parse(it.line);
      assert.equal(typeof v, 'object');
    }
  });
});

describe('event time', () => {
  test('lines advance at eventsPerSecond from the start time, in order', () => {
    const { items } = take({ scenario: 'mixed', eventsPerSecond: 250 }, 5000);
    items.forEach((it, i) => {
      assert.equal(it.timeMs, START + Math.floor((i * 1000) / 250));
    });
  });
});

describe('normal traffic stays normal', () => {
  test('no attack instances and no entity fails a login more than once in 15 minutes', () => {
    const { items, truth } = take({ scenario: 'normal', seed: 11 }, 100_000);
    assert.equal(truth.length, 0);
    const lastFailure = new Map<string, number>();
    const failure =
      /Failed password for (\S+) from (\S+)|"user": "([^"]+)", "src_ip": "([^"]+)", "outcome": "failure"/;
    let failures = 0;
    for (const it of items) {
      const m = failure.exec(it.line);
      if (!m) continue;
      failures++;
      const user = m[1] ?? m[3];
      const last = lastFailure.get(`${it.format}:${user}`);
      assert.ok(last === undefined || it.timeMs - last >= 15 * 60_000, `${user} failed twice: ${it.line}`);
      lastFailure.set(`${it.format}:${user}`, it.timeMs);
      assert.ok(USERS.includes(user));
    }
    assert.ok(failures > 0, 'normal traffic has the odd failed login');
  });

  test('no normal threat event is high or critical', () => {
    const { items } = take({ scenario: 'normal' }, 50_000);
    for (const it of items.filter((i) => i.format === 'threat-json'))
      assert.match(it.line, /"severity": "(low|medium)"/);
  });
});
