import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deltaE, SERIES_COLOURS, seriesStyle } from '../../src/web/palette.ts';

test('sixteen series never share a style (colour and dash)', () => {
  const styles = Array.from({ length: 16 }, (_, i) => seriesStyle(i));
  const keys = new Set(styles.map((s) => `${s.stroke}/${s.dash.join(',')}`));
  assert.equal(keys.size, 16);
});

test('no two colours of one dash pattern are close (CIE76 ΔE ≥ 20), and all read on white', () => {
  for (let i = 0; i < SERIES_COLOURS.length; i++) {
    assert.ok(deltaE(SERIES_COLOURS[i], '#ffffff') >= 25, `${SERIES_COLOURS[i]} is too pale on white`);
    for (let j = i + 1; j < SERIES_COLOURS.length; j++) {
      const d = deltaE(SERIES_COLOURS[i], SERIES_COLOURS[j]);
      assert.ok(d >= 20, `${SERIES_COLOURS[i]} and ${SERIES_COLOURS[j]} are ${d.toFixed(1)} apart`);
    }
  }
});

test('ΔE is 0 for one colour and about 100 between black and white', () => {
  assert.equal(deltaE('#0072b2', '#0072b2'), 0);
  assert.ok(Math.abs(deltaE('#000000', '#ffffff') - 100) < 0.5);
});
