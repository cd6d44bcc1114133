/**
 * Series styles for charts with many lines: the eight Okabe–Ito colours (chosen to stay apart for
 * colour-blind readers; the yellow swapped for olive, which reads on white), solid first, then the
 * same eight dashed. Twelve log types then never share a style, and no two solid lines are close
 * in colour (test/web/palette.test.ts checks the distance in CIELAB).
 */
export const SERIES_COLOURS = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#d55e00',
  '#cc79a7',
  '#56b4e9',
  '#1d2430',
  '#999933',
] as const;

export interface SeriesStyle {
  stroke: string;
  /** Canvas dash pattern; empty is a solid line. */
  dash: number[];
}

export function seriesStyle(i: number): SeriesStyle {
  const round = Math.floor(i / SERIES_COLOURS.length);
  const dash = [[], [6, 4], [2, 3], [10, 3, 2, 3]][round % 4];
  return { stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], dash };
}

/** CIE76 ΔE between two `#rrggbb` colours (sRGB, D65). */
export function deltaE(a: string, b: string): number {
  const [l1, a1, b1] = toLab(a);
  const [l2, a2, b2] = toLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

function toLab(hex: string): [number, number, number] {
  const lin = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, bl] = lin;
  const x = (r * 0.4124 + g * 0.3576 + bl * 0.1805) / 0.95047;
  const y = r * 0.2126 + g * 0.7152 + bl * 0.0722;
  const z = (r * 0.0193 + g * 0.1192 + bl * 0.9505) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
