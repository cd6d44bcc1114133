import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series } from '../model.ts';

/** Calm, distinguishable series colours: Okabe–Ito first (colour-blind safe), then four more. */
export const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#b8a200',
  '#555555',
  '#7b3294',
  '#1b7837',
  '#a6611a',
  '#2c7fb8',
];

/** A uPlot line chart that follows its container's width; `x` is epoch seconds. */
export function TimeChart({ x, series, title }: { x: number[]; series: Series[]; title: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      title,
      width: Math.max(300, el.clientWidth),
      height: 260,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          points: { show: false },
        })),
      ],
      axes: [{}, { label: 'events' }],
      legend: { live: false },
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(300, el.clientWidth), height: 260 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, title]);
  return <div ref={host} class="chart" role="img" aria-label={title} />;
}
