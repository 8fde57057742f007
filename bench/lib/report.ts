/**
 * The results: one JSON document per run, a text table with ratios against each peer,
 * and an SVG bar chart (no dependencies: a few rectangles and labels).
 */
import type { Measured } from './measure.js';

export interface SystemResult {
  id: string;
  label: string;
  available: boolean;
  /** Why it was not measured (install failed, not yet implemented, …). */
  reason?: string;
  notes: string[];
  results?: Measured;
}

export interface Results {
  kind: 'full' | 'smoke';
  date: string;
  machine: { cpus: number; model: string; kernel: string; node: string };
  durations: { seconds: number; pings: number };
  systems: SystemResult[];
  micro?: unknown;
  scale?: unknown;
  storm?: unknown;
  /** The user-mode stack beside the kernel client (stack.ts). */
  stack?: import('./stack.js').StackBenchResult;
  /** DTCP host tunnel against EL, idle tunnels, and what a tunnel costs (dtcp-bench.ts, six-in-four-cost.ts). */
  dtcp?: unknown;
  /** Session setups per switch core-second by admission (setups.ts). */
  setups?: import('./setups.js').SetupResult;
}

const METRICS: { key: keyof Measured; label: string; unit: string; higherIsBetter: boolean; fmt: (v: number) => string }[] = [
  { key: 'tcp1Gbps', label: 'TCP 1 stream', unit: 'Gbit/s', higherIsBetter: true, fmt: (v) => v.toFixed(2) },
  { key: 'tcp4Gbps', label: 'TCP 4 streams', unit: 'Gbit/s', higherIsBetter: true, fmt: (v) => v.toFixed(2) },
  { key: 'udp64Pps', label: 'UDP 64 B received', unit: 'kpps', higherIsBetter: true, fmt: (v) => (v / 1000).toFixed(1) },
  { key: 'pingAvgMs', label: 'ping avg', unit: 'ms', higherIsBetter: false, fmt: (v) => v.toFixed(3) },
  { key: 'pingP99Ms', label: 'ping p99', unit: 'ms', higherIsBetter: false, fmt: (v) => v.toFixed(3) },
];

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function cpuCell(m: Measured): string {
  return Object.entries(m.cpuSecondsPerGbit)
    .map(([role, v]) => `${role} ${v.toFixed(2)}`)
    .join(', ');
}

export function table(r: Results): string {
  const rows: string[][] = [['system', ...METRICS.map((m) => `${m.label} (${m.unit})`), 'CPU s per Gbit (TCP 1 stream)']];
  for (const s of r.systems) {
    if (!s.available || !s.results) rows.push([s.label, ...METRICS.map(() => '—'), `not measured: ${s.reason ?? '?'}`]);
    else rows.push([s.label, ...METRICS.map((m) => m.fmt(s.results![m.key] as number)), cpuCell(s.results)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => (i === rows[0].length - 1 ? 0 : row[i].length))));
  const lines = rows.map((row) => row.map((c, i) => pad(c, widths[i])).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(Math.max(w, 3))).join('  '));

  const raw = r.systems.find((s) => s.id === 'elink-l2' && s.results);
  const ws = r.systems.find((s) => s.id === 'elink-l2-ws' && s.results);
  if (raw && ws) lines.push('', `WebSocket ÷ raw TLS (Emotion Link L2, one node): ${ratios(ws.results!, raw.results!)}`);

  const ours = r.systems.filter((s) => s.id.startsWith('elink') && s.results);
  const peers = r.systems.filter((s) => !s.id.startsWith('elink') && s.results);
  if (ours.length && peers.length) {
    lines.push('', 'Ratios (Emotion Link ÷ peer; > 1 is better for throughput and packet rate, < 1 is better for ping):');
    for (const o of ours) for (const p of peers) lines.push(`  ${o.label} vs ${p.label}: ${ratios(o.results!, p.results!)}`);
  }
  return lines.join('\n');
}

export function ratios(a: Measured, b: Measured): string {
  return METRICS.map((m) => `${m.label} ${((a[m.key] as number) / (b[m.key] as number)).toFixed(2)}×`).join(', ');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** One panel per metric, one bar per measured system. */
export function svg(r: Results): string {
  const measured = r.systems.filter((s) => s.results);
  const colors = ['#d9480f', '#f08c00', '#1971c2', '#4dabf7', '#2f9e44', '#868e96'];
  const panelW = 220;
  const panelH = 220;
  const top = 60;
  const width = METRICS.length * panelW + 40;
  const legendH = 20 * measured.length + 20;
  const height = top + panelH + 60 + legendH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="16" font-weight="bold">${esc(`Client to client through one server, ${r.machine.cpus} cores, one run (${r.date.slice(0, 10)})`)}</text>`,
  ];
  METRICS.forEach((m, pi) => {
    const x0 = 20 + pi * panelW;
    const values = measured.map((s) => s.results![m.key] as number);
    const max = Math.max(...values, 1e-9);
    const barW = Math.max(8, Math.floor((panelW - 40) / Math.max(1, measured.length)) - 6);
    parts.push(`<text x="${x0}" y="${top - 10}" font-weight="bold">${esc(`${m.label} (${m.unit}) ${m.higherIsBetter ? '↑' : '↓'}`)}</text>`);
    parts.push(`<line x1="${x0}" y1="${top + panelH}" x2="${x0 + panelW - 30}" y2="${top + panelH}" stroke="#333"/>`);
    measured.forEach((s, i) => {
      const v = values[i];
      const h = Math.round((v / max) * (panelH - 20));
      const x = x0 + i * (barW + 6);
      parts.push(`<rect x="${x}" y="${top + panelH - h}" width="${barW}" height="${h}" fill="${colors[i % colors.length]}"><title>${esc(`${s.label}: ${m.fmt(v)} ${m.unit}`)}</title></rect>`);
      parts.push(`<text x="${x + barW / 2}" y="${top + panelH - h - 4}" text-anchor="middle" font-size="10">${esc(m.fmt(v))}</text>`);
    });
  });
  measured.forEach((s, i) => {
    const y = top + panelH + 40 + i * 20;
    parts.push(`<rect x="20" y="${y - 10}" width="12" height="12" fill="${colors[i % colors.length]}"/>`);
    parts.push(`<text x="38" y="${y}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
