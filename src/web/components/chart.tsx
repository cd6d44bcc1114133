import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { currentZone } from '../format.ts';
import type { Series } from '../model.ts';

const BARS = uPlot.paths.bars?.({ size: [0.9, 40] });

import { seriesStyle } from '../palette.ts';
import { formatClock, formatTime } from '../time.ts';

/**
 * A uPlot line chart that follows its container's width; `x` is epoch seconds. Times on the axis
 * and in the legend are 24-hour in the dashboard's zone. When the last bucket is still filling
 * (`partialFrom`, epoch seconds), the segment into it is shaded and labelled so its lower count
 * does not read as a drop.
 */
export function TimeChart({
  x,
  series,
  title,
  partialFrom,
  bars,
  height = 260,
  onSelect,
  yLabel = 'events',
}: {
  x: number[];
  series: Series[];
  title: string;
  partialFrom?: number;
  /** Draw bars (a histogram) instead of lines. */
  bars?: boolean;
  height?: number;
  /** What the y axis counts. */
  yLabel?: string;
  /** A range dragged on the chart, epoch ms: the page zooms its time range to it. */
  onSelect?: (fromMs: number, toMs: number) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const zone = currentZone();
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const span = x.length > 1 ? x[x.length - 1] - x[0] : 0;
    const withSeconds = span < 600;
    const opts: uPlot.Options = {
      title,
      width: Math.max(280, el.clientWidth),
      height,
      series: [
        { value: (_u, v) => (v === null ? '—' : formatTime(v * 1000, zone)) },
        ...series.map((s, i) => {
          const style = seriesStyle(i);
          return bars
            ? {
                label: s.name,
                stroke: style.stroke,
                fill: `${style.stroke}99`,
                width: 1,
                paths: BARS,
                points: { show: false },
              }
            : { label: s.name, stroke: style.stroke, dash: style.dash, width: 2, points: { show: false } };
        }),
      ],
      axes: [
        {
          values: (_u, splits) => splits.map((s) => formatClock(s * 1000, zone, withSeconds)),
        },
        { label: yLabel },
      ],
      legend: { live: false, show: !bars },
      cursor: { drag: { x: Boolean(onSelect), y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (!onSelect || u.select.width < 4) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            onSelect(Math.round(a * 1000), Math.round(b * 1000));
          },
        ],
        drawAxes: [
          (u) => {
            if (partialFrom === undefined) return;
            // The line into the last point is the one that would read as a drop: shade its segment.
            const i = x.indexOf(partialFrom);
            const left = u.valToPos(i > 0 ? x[i - 1] : partialFrom, 'x', true);
            const right = u.valToPos(partialFrom, 'x', true) + 1;
            if (!(left < right)) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = 'rgba(91, 100, 115, 0.12)';
            ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
            ctx.fillStyle = '#5b6473';
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            ctx.textAlign = 'right';
            ctx.fillText('filling…', right - 4, u.bbox.top + 14 * devicePixelRatio);
            ctx.restore();
          },
        ],
      },
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, title, partialFrom, zone, bars, height, onSelect, yLabel]);
  return (
    <div ref={host} class="chart" role="img" aria-label={title} data-partial={partialFrom !== undefined} />
  );
}
