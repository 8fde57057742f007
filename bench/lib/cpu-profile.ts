/**
 * Reads V8 .cpuprofile files (written by `node --cpu-prof`) and sums self time per
 * function, so a profile can be quoted as a table of the top functions in
 * docs/benchmarks.md. Samples of '(idle)' are left out of the percentages: they say
 * the process was waiting, not where it spent CPU.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface TopFunction {
  name: string;
  /** Share of the non-idle samples, 0–100. */
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled seconds that were not idle. */
  busySeconds: number;
  top: TopFunction[];
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const fn = functionName || '(anonymous)';
  if (!url) return fn;
  // Keep the package-relative part of the path: enough to find the code.
  const m = /(?:packages|node_modules)\/(.+)$/.exec(url) ?? /node:(.+)$/.exec(url);
  const where = m ? m[1] : url.replace(/^file:\/\//, '');
  return `${fn} ${where}:${lineNumber + 1}`;
}

export function summarizeProfile(file: string, topN = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const micros = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (!n || dt <= 0) continue;
    const name = label(n);
    if (name === '(idle)') continue;
    busy += dt;
    micros.set(name, (micros.get(name) ?? 0) + dt);
  }
  const top = [...micros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({ name, selfPercent: busy ? (100 * us) / busy : 0 }));
  return { file, busySeconds: busy / 1e6, top };
}
