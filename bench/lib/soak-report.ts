/**
 * The soak test's results: the samples as CSV, the "flat at the end" verdict, and an SVG
 * line chart (no dependencies: polylines, axes, a legend). Pure functions of the samples.
 */

export interface SoakSample {
  /** Seconds since the server started. */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  /** Active libuv handles (prom-client's nodejs_active_handles_total). */
  handles: number;
  fds: number;
  sessions: number;
  macEntries: number;
  leases: number;
  sessionsOpened: number;
  loginsOk: number;
}

export const SAMPLE_COLUMNS: readonly (keyof SoakSample)[] = ['t', 'rssMiB', 'heapUsedMiB', 'heapTotalMiB', 'handles', 'fds', 'sessions', 'macEntries', 'leases', 'sessionsOpened', 'loginsOk'];

export function toCsv(samples: readonly SoakSample[]): string {
  return [SAMPLE_COLUMNS.join(','), ...samples.map((s) => SAMPLE_COLUMNS.map((c) => String(Math.round(s[c] * 100) / 100)).join(','))].join('\n') + '\n';
}

/** A sample with the series derived from the others. */
export type SoakRow = SoakSample & {
  /** The lowest heap used over the preceding FLOOR_SPAN seconds: what survives collections.
   * The heap itself saw-tooths with a period near a minute, so its slope over one minute
   * says more about where the window falls in the cycle than about a leak. */
  heapFloorMiB: number;
};

export const FLOOR_SPAN = 120;

export function withDerived(samples: readonly SoakSample[]): SoakRow[] {
  return samples.map((s) => ({ ...s, heapFloorMiB: Math.min(...samples.filter((o) => o.t <= s.t && o.t >= s.t - FLOOR_SPAN).map((o) => o.heapUsedMiB)) }));
}

export interface SeriesVerdict {
  series: keyof SoakRow;
  /** Mean over the window. */
  mean: number;
  /** Least-squares slope over the window, per minute. */
  slopePerMinute: number;
  /** slope × window length: how much the series moved across the window. */
  drift: number;
  /** Largest |drift| that counts as flat: `relative` × mean, at least `absolute`. */
  tolerance: number;
  flat: boolean;
}

export interface Verdict {
  windowSeconds: number;
  flat: boolean;
  series: SeriesVerdict[];
}

/** What "flat" allows per series: a share of the mean, or an absolute floor for small counts. */
export const TOLERANCES: Partial<Record<keyof SoakRow, { relative: number; absolute: number }>> = {
  rssMiB: { relative: 0.05, absolute: 2 },
  heapFloorMiB: { relative: 0.05, absolute: 2 },
  handles: { relative: 0.05, absolute: 10 },
  fds: { relative: 0.05, absolute: 10 },
  sessions: { relative: 0.05, absolute: 10 },
  leases: { relative: 0.05, absolute: 2 },
  macEntries: { relative: 0.05, absolute: 10 },
};

function slope(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Flat at the end: over the last `windowSeconds`, no series drifts by more than its tolerance. */
export function verdict(samples: readonly SoakSample[], windowSeconds: number): Verdict {
  const end = samples[samples.length - 1]?.t ?? 0;
  const window = withDerived(samples).filter((s) => s.t >= end - windowSeconds);
  const series = (Object.keys(TOLERANCES) as (keyof SoakRow)[]).map((key): SeriesVerdict => {
    const points = window.map((s): [number, number] => [s.t, s[key]]);
    const mean = points.reduce((a, p) => a + p[1], 0) / Math.max(1, points.length);
    const perSecond = points.length >= 3 ? slope(points) : Number.NaN;
    const drift = perSecond * windowSeconds;
    const tol = TOLERANCES[key]!;
    const tolerance = Math.max(tol.relative * Math.abs(mean), tol.absolute);
    return { series: key, mean, slopePerMinute: perSecond * 60, drift, tolerance, flat: Math.abs(drift) <= tolerance };
  });
  return { windowSeconds, flat: series.every((s) => s.flat), series };
}

interface Line {
  key: keyof SoakRow;
  dashed?: boolean;
  label: string;
  color: string;
}

interface Panel {
  title: string;
  unit: string;
  lines: Line[];
}

const PANELS: Panel[] = [
  { title: 'resident memory', unit: 'MiB', lines: [{ key: 'rssMiB', label: 'RSS', color: '#1f77b4' }] },
  {
    title: 'V8 heap',
    unit: 'MiB',
    lines: [
      { key: 'heapTotalMiB', label: 'total', color: '#9ecae1' },
      { key: 'heapUsedMiB', label: 'used', color: '#d62728' },
      { key: 'heapFloorMiB', label: `used, lowest in ${FLOOR_SPAN / 60} min`, color: '#7f1d1d', dashed: true },
    ],
  },
  {
    title: 'handles and tables',
    unit: 'count',
    lines: [
      { key: 'sessions', label: 'sessions', color: '#2ca02c' },
      { key: 'fds', label: 'open fds', color: '#ff7f0e' },
      { key: 'handles', label: 'libuv handles', color: '#9467bd' },
      { key: 'leases', label: 'broker leases', color: '#8c564b' },
    ],
  },
];

/** A round tick step (1, 2, 2.5 or 5 × a power of ten) giving about five ticks up to `v`, and the axis maximum. */
function niceScale(v: number): { max: number; step: number } {
  if (!(v > 0)) return { max: 1, step: 0.25 };
  const raw = v / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= raw)!;
  return { max: Math.ceil(v / step) * step, step };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Stacked panels over time (minutes), sharing the x axis; `marks` are dashed vertical lines. */
export function soakSvg(raw: readonly SoakSample[], v: Verdict, o: { title: string; marks: { t: number; label: string }[] }): string {
  const samples = withDerived(raw);
  const W = 760;
  const left = 64;
  const right = 16;
  const top = 78;
  const panelH = 140;
  const gap = 50;
  const bottom = 46;
  const H = top + PANELS.length * panelH + (PANELS.length - 1) * gap + bottom;
  const plotW = W - left - right;
  const last = Math.max(60, samples[samples.length - 1]?.t ?? 60);
  const xStep = last <= 180 ? 0.5 : last <= 360 ? 1 : last <= 900 ? 2 : 5;
  // The axis ends on a tick, so a 10-minute run whose last sample is at 9:55 still shows 10.
  const tEnd = Math.ceil(last / 60 / xStep - 0.05) * xStep * 60;
  const minutes = tEnd / 60;
  const x = (t: number) => left + (t / tEnd) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  const flatText = v.flat ? `flat at the end: every series within its tolerance over the last ${v.windowSeconds} s` : `NOT flat at the end (last ${v.windowSeconds} s): ${v.series.filter((s) => !s.flat).map((s) => s.series).join(', ')}`;
  out.push(`<text x="${left}" y="40" fill="${v.flat ? '#2a7d2a' : '#c0392b'}">${esc(flatText)}</text>`);
  PANELS.forEach((panel, i) => {
    const y0 = top + i * (panelH + gap);
    const { max: yMax, step } = niceScale(Math.max(...panel.lines.flatMap((l) => samples.map((s) => s[l.key]))));
    const y = (val: number) => y0 + panelH - (val / yMax) * panelH;
    // The verdict window, shaded.
    out.push(`<rect x="${x(last - v.windowSeconds).toFixed(1)}" y="${y0}" width="${(x(last) - x(last - v.windowSeconds)).toFixed(1)}" height="${panelH}" fill="#f3f3f3"/>`);
    for (let g = 0; g <= yMax + 1e-9; g += step) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(g).toFixed(1)}" y2="${y(g).toFixed(1)}" stroke="#e2e2e2"/>`);
      out.push(`<text x="${left - 6}" y="${(y(g) + 4).toFixed(1)}" text-anchor="end" fill="#444">${fmt(g)}</text>`);
    }
    for (let m = 0; m <= minutes + 1e-9; m += xStep) {
      out.push(`<line x1="${x(m * 60).toFixed(1)}" x2="${x(m * 60).toFixed(1)}" y1="${y0 + panelH}" y2="${y0 + panelH + 4}" stroke="#444"/>`);
      out.push(`<text x="${x(m * 60).toFixed(1)}" y="${y0 + panelH + 16}" text-anchor="middle" fill="#444">${String(Math.round(m * 100) / 100)}</text>`);
    }
    o.marks.forEach((mark, k) => {
      out.push(`<line x1="${x(mark.t).toFixed(1)}" x2="${x(mark.t).toFixed(1)}" y1="${y0}" y2="${y0 + panelH}" stroke="#888" stroke-dasharray="4 3"/>`);
      // Stacked, so marks close together keep readable labels.
      if (i === 0) out.push(`<text x="${(x(mark.t) + 4).toFixed(1)}" y="${y0 + panelH - 8 - 13 * (o.marks.length - 1 - k)}" fill="#666">${esc(mark.label)}</text>`);
    });
    if (i === 0) out.push(`<text x="${(x(last) - 4).toFixed(1)}" y="${y0 + panelH - 8}" text-anchor="end" fill="#888">verdict window</text>`);
    out.push(`<line x1="${left}" x2="${left}" y1="${y0}" y2="${y0 + panelH}" stroke="#444"/>`);
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y0 + panelH}" y2="${y0 + panelH}" stroke="#444"/>`);
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<text transform="translate(16 ${y0 + panelH / 2}) rotate(-90)" text-anchor="middle" fill="#444">${esc(panel.unit)}</text>`);
    if (i === PANELS.length - 1) out.push(`<text x="${left + plotW / 2}" y="${y0 + panelH + 34}" text-anchor="middle" fill="#444">time since start (minutes)</text>`);
    for (const l of panel.lines) {
      const pts = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[l.key]).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="1.6" stroke-linejoin="round"${l.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    // Legend, above the panel on the right, with each line's last value.
    let lx = left + plotW;
    for (const l of [...panel.lines].reverse()) {
      const final = samples[samples.length - 1]?.[l.key] ?? 0;
      const text = `${l.label} ${fmt(Math.round(final * 10) / 10)}`;
      const w = 28 + text.length * 6.3;
      lx -= w;
      out.push(`<line x1="${lx}" x2="${lx + 16}" y1="${y0 - 12}" y2="${y0 - 12}" stroke="${l.color}" stroke-width="3"${l.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<text x="${lx + 20}" y="${y0 - 8}" fill="#222">${esc(text)}</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
