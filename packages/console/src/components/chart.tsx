/**
 * A live time-series chart (uPlot on a canvas), its axis in the series' unit with SI
 * prefixes, and the newest values in text beside it for screen readers and for browsers
 * without a canvas. It redraws when `version` changes (a new sample arrived).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series } from '../series.js';

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777'];

export interface ChartProps {
  title: string;
  series: Series | undefined;
  /** Formats a value with its unit (axis, legend, text). */
  format: (v: number) => string;
  /** Changes whenever the series got new samples. */
  version: number;
  height?: number;
  /** For tests and scripts: names the chart in data-chart. */
  id: string;
}

function canDraw(): boolean {
  try {
    return document.createElement('canvas').getContext('2d') !== null;
  } catch {
    return false;
  }
}

export function Chart({ title, series, format, version, height = 180, id }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = series?.names.join('\u0000') ?? '';

  // (Re)made when the set of lines changes (drop reasons appear); destroyed on unmount.
  useEffect(() => {
    const el = box.current;
    if (!el || !series || !canDraw()) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      // The legend names the lines; the newest values are in the caption (a cursor readout would flicker).
      legend: { show: true, live: false },
      // No sample or one alone would stretch the time axis over a day or more: the last minute instead.
      scales: {
        x: {
          time: true,
          range: (u, min, max) => {
            const xs = u.data[0];
            if (xs.length >= 2) return [min, max];
            const t = xs[0] ?? Date.now() / 1000;
            return [t - 60, t];
          },
        },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(127,127,127,0.2)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(127,127,127,0.2)' }, size: 86, values: (_u, splits) => splits.map((v) => format(v)) },
      ],
      // Every other line dashed: rx and tx of a segment are often equal and would hide each other.
      series: [{}, ...series.names.map((n, i) => ({ label: n.replace(/ .*$/, ''), stroke: PALETTE[i % PALETTE.length], width: 2, ...(i % 2 === 1 ? { dash: [6, 4] } : {}), points: { show: false }, value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) }))],
    };
    const u = new uPlot(opts, series.data() as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [names, height, series === undefined]);

  useEffect(() => {
    if (plot.current && series) plot.current.setData(series.data() as uPlot.AlignedData);
  }, [version]);

  const latest = series?.latest() ?? [];
  const summary = series && series.length > 0 ? series.names.map((n, i) => `${n.replace(/ .*$/, '')} ${format(latest[i]!)}`).join(', ') : 'no data yet';
  return (
    <figure class="chart" data-chart={id} data-points={series?.length ?? 0} data-latest={JSON.stringify(latest)}>
      <figcaption>
        <span class="chart-title">{title}</span> <span class="chart-now">{summary}</span>
      </figcaption>
      <div ref={box} class="chart-plot" role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
