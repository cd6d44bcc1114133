import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ATTACKS, SCENARIO_NAMES } from '../../src/generate/scenarios/index.ts';
import { take } from './helpers.ts';

/** Lines that belong to an attack instance: they name its attacker entity. */
function attackLines(items: ReturnType<typeof take>['items'], entity: string) {
  const quoted = new RegExp(`(^|[^0-9.])${entity.replaceAll('.', '\\.')}([^0-9.]|$)`);
  return items.filter((i) => quoted.test(i.line));
}

describe('ground truth', () => {
  test('mixed runs start every attack kind, and complete instances have all their lines', () => {
    const { truth } = take({ scenario: 'mixed', seed: 4 }, 200_000);
    assert.deepEqual(new Set(truth.map((t) => t.scenario)), new Set(Object.keys(ATTACKS)));
    for (const t of truth.filter((r) => r.complete)) {
      assert.equal(t.events, t.planned, t.id);
      assert.ok(t.end_ms >= t.start_ms);
      assert.equal(new Date(t.start_ms).toISOString(), t.start);
      assert.ok(t.expected_rules.length > 0 || t.scenario === 'beacon', t.id);
    }
    assert.ok(truth.filter((r) => r.complete).length >= 18);
  });

  for (const scenario of SCENARIO_NAMES.filter((s) => s !== 'normal' && s !== 'mixed')) {
    test(`${scenario}: the attacker's lines are in the output between start and end, and only there`, () => {
      const { items, truth } = take({ scenario, seed: 5 }, scenario === 'beacon' ? 70_000 : 20_000);
      const complete = truth.filter((t) => t.complete);
      assert.ok(complete.length >= 1, `${scenario}: no complete instance`);
      for (const t of complete) {
        const entity = t.attacker.src_ip ?? t.attacker.host!;
        const lines = attackLines(items, entity).filter(
          (i) => i.timeMs >= t.start_ms && i.timeMs <= t.end_ms,
        );
        if (t.attacker.src_ip) {
          // The attacker's lines within [start, end] are exactly the instance's lines...
          assert.equal(lines.length, t.events, `${t.id} (${entity})`);
          assert.equal(lines[0].timeMs, t.start_ms);
          assert.equal(lines.at(-1)!.timeMs, t.end_ms);
        } else {
          // An attacked endpoint also has its everyday low-severity events; the attack is the high/critical ones.
          assert.ok(lines.length >= t.events, t.id);
          assert.ok(lines.filter((l) => /"severity": "(high|critical)"/.test(l.line)).length >= 1, t.id);
        }
        for (const l of lines) assert.ok(t.formats.includes(l.format), `${t.id}: ${l.format}`);
        // ...and an attacker entity never appears in background traffic.
        if (t.attacker.src_ip) {
          const outside = attackLines(items, entity).filter(
            (i) =>
              !truth.some(
                (o) => o.attacker.src_ip === entity && i.timeMs >= o.start_ms && i.timeMs <= o.end_ms,
              ),
          );
          assert.deepEqual(outside, [], `${t.id}: attacker seen outside its instances`);
        }
      }
    });
  }

  test('expected rule names exist in the bundled rule pack', () => {
    const dir = new URL('../../rules/', import.meta.url);
    assert.ok(existsSync(dir), 'rules/ is missing');
    const names = new Set<string>();
    const walk = (d: URL) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory() && e.name !== 'fixtures') walk(new URL(`${e.name}/`, d));
        else if (/\.ya?ml$/.test(e.name)) {
          for (const m of readFileSync(new URL(e.name, d), 'utf8').matchAll(/^(?:name|id):\s*(\S+)/gm))
            names.add(m[1]);
        }
      }
    };
    walk(dir);
    assert.ok(names.size > 0, 'rules/ has no rules');
    const { truth } = take({ scenario: 'mixed' }, 200_000);
    const missing = [...new Set(truth.flatMap((r) => r.expected_rules))].filter((r) => !names.has(r));
    assert.deepEqual(missing, [], 'expected rules missing from rules/');
  });
});
