/**
 * `--figure first-seconds` (issue 14): ping right after the Emotion Link clients start
 * (the cold window) and again after a flood (the warm window), paired against SoftEther:
 * SoftEther stays up the whole run on the same topology (its own TAP and subnet), and the
 * pings alternate between the two systems in blocks, so both see the same machine at the
 * same moment (single runs drift ±30 % here). Emotion Link is started afresh for every
 * round and variant (the start-up tuning on, off, or only one half of it), in an order that
 * alternates round by round.
 *
 *   cold window  the first `pings` pings of each system from the moment both EL clients
 *                logged "link up" (after one ping that resolves ARP), 10 ms apart
 *   warm window  the same after `flood` flood pings (`ping -f`) through each system
 *
 * Every window reports avg, p99 and mdev (as ping computes it) of EL and SoftEther and
 * their ratios; the summary gives each ratio's median over the rounds and its range.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { coldThenWarm, median, reachable, withWarmSoftEther, type Target } from './cold-warm.js';
import { elinkSystem, type TuningVariant } from './elink.js';
import { run } from './proc.js';
import type { RunningSystem } from './system.js';
import type { Topology } from './topology.js';

export interface WindowStats {
  n: number;
  avgMs: number;
  p99Ms: number;
  mdevMs: number;
  lost: number;
}

export interface WindowPair {
  el: WindowStats;
  se: WindowStats;
  /** EL ÷ SoftEther (< 1: EL is better). */
  ratio: { avg: number; p99: number; mdev: number };
  /** Every round trip in ms, in the order sent (blocks of `block` pings each, alternating
   * with the other system's): where in a block the slow ones fall. */
  times: { el: number[]; se: number[] };
}

export interface FirstSecondsRound {
  mode: 'l2' | 'l3';
  variant: TuningVariant;
  round: number;
  cold: WindowPair;
  warm: WindowPair;
}

export interface FirstSecondsSummaryRow {
  mode: 'l2' | 'l3';
  variant: TuningVariant;
  window: 'cold' | 'warm';
  rounds: number;
  /** Medians over the rounds. */
  el: { avgMs: number; p99Ms: number; mdevMs: number };
  se: { avgMs: number; p99Ms: number; mdevMs: number };
  ratio: { avg: number; p99: number; mdev: number };
  /** [min, max] of each paired ratio over the rounds: the noise. */
  range: { avg: [number, number]; p99: [number, number]; mdev: [number, number] };
}

export interface FirstSecondsResult {
  pings: number;
  block: number;
  flood: number;
  rounds: FirstSecondsRound[];
  summary: FirstSecondsSummaryRow[];
}

function rtts(ns: string, address: string, count: number): { times: number[]; lost: number } {
  const r = run('ping', ['-c', String(count), '-i', '0.01', '-W', '1', address], { ns, timeoutMs: count * 50 + 10_000 });
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  return { times, lost: count - times.length };
}

export function windowStats(times: readonly number[], lost: number): WindowStats {
  if (times.length === 0) return { n: 0, avgMs: NaN, p99Ms: NaN, mdevMs: NaN, lost };
  const sorted = [...times].sort((a, b) => a - b);
  const avg = times.reduce((a, b) => a + b, 0) / times.length;
  const sq = times.reduce((a, b) => a + b * b, 0) / times.length;
  return {
    n: times.length,
    avgMs: avg,
    p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!,
    // ping's mdev: the standard deviation of the round trips.
    mdevMs: Math.sqrt(Math.max(0, sq - avg * avg)),
    lost,
  };
}

/** `pings` pings to each target, alternating blocks of `block`. */
export function pairedWindow(el: Target, se: Target, pings: number, block: number): WindowPair {
  const got = { el: [] as number[], se: [] as number[], elLost: 0, seLost: 0 };
  for (let done = 0, i = 0; done < pings; i++) {
    const n = Math.min(block, pings - done);
    // Alternate which system goes first in each pair of blocks.
    const order: ('el' | 'se')[] = i % 2 === 0 ? ['el', 'se'] : ['se', 'el'];
    for (const who of order) {
      const t = who === 'el' ? el : se;
      const r = rtts(t.ns, t.address, n);
      got[who].push(...r.times);
      if (who === 'el') got.elLost += r.lost;
      else got.seLost += r.lost;
    }
    done += n;
  }
  const e = windowStats(got.el, got.elLost);
  const s = windowStats(got.se, got.seLost);
  return { el: e, se: s, ratio: { avg: e.avgMs / s.avgMs, p99: e.p99Ms / s.p99Ms, mdev: e.mdevMs / s.mdevMs }, times: { el: got.el, se: got.se } };
}

export function summarize(rounds: readonly FirstSecondsRound[]): FirstSecondsSummaryRow[] {
  const rows: FirstSecondsSummaryRow[] = [];
  const keys = [...new Set(rounds.map((r) => `${r.mode}/${r.variant}`))];
  for (const key of keys) {
    const rs = rounds.filter((r) => `${r.mode}/${r.variant}` === key);
    for (const window of ['cold', 'warm'] as const) {
      const w = rs.map((r) => r[window]);
      const med = (f: (p: WindowPair) => number) => median(w.map(f));
      const range = (f: (p: WindowPair) => number): [number, number] => [Math.min(...w.map(f)), Math.max(...w.map(f))];
      rows.push({
        mode: rs[0]!.mode,
        variant: rs[0]!.variant,
        window,
        rounds: rs.length,
        el: { avgMs: med((p) => p.el.avgMs), p99Ms: med((p) => p.el.p99Ms), mdevMs: med((p) => p.el.mdevMs) },
        se: { avgMs: med((p) => p.se.avgMs), p99Ms: med((p) => p.se.p99Ms), mdevMs: med((p) => p.se.mdevMs) },
        ratio: { avg: med((p) => p.ratio.avg), p99: med((p) => p.ratio.p99), mdev: med((p) => p.ratio.mdev) },
        range: { avg: range((p) => p.ratio.avg), p99: range((p) => p.ratio.p99), mdev: range((p) => p.ratio.mdev) },
      });
    }
  }
  return rows;
}

export function summaryTable(rows: readonly FirstSecondsSummaryRow[]): string {
  const f = (v: number, d = 3) => v.toFixed(d);
  const lines = ['mode  variant       window  rounds  EL avg/p99/mdev ms    SoftEther avg/p99/mdev ms  EL÷SE avg (range)   EL÷SE p99 (range)   EL÷SE mdev (range)'];
  for (const r of rows) {
    lines.push(
      [
        r.mode.padEnd(4),
        r.variant.padEnd(12),
        r.window.padEnd(6),
        String(r.rounds).padStart(6),
        `${f(r.el.avgMs)}/${f(r.el.p99Ms, 2)}/${f(r.el.mdevMs)}`.padEnd(21),
        `${f(r.se.avgMs)}/${f(r.se.p99Ms, 2)}/${f(r.se.mdevMs)}`.padEnd(26),
        `${f(r.ratio.avg, 2)} (${f(r.range.avg[0], 2)}–${f(r.range.avg[1], 2)})`.padEnd(19),
        `${f(r.ratio.p99, 2)} (${f(r.range.p99[0], 2)}–${f(r.range.p99[1], 2)})`.padEnd(19),
        `${f(r.ratio.mdev, 2)} (${f(r.range.mdev[0], 2)}–${f(r.range.mdev[1], 2)})`,
      ].join('  '),
    );
  }
  return lines.join('\n');
}

export async function firstSecondsBenchmark(
  topo: Topology,
  work: string,
  o: { modes: ('l2' | 'l3')[]; variants: TuningVariant[]; rounds: number; pings: number; block: number; flood: number; log: (s: string) => void },
): Promise<FirstSecondsResult> {
  const rounds: FirstSecondsRound[] = [];
  // SoftEther's own first seconds are not what is compared: it is warmed like EL's warm window.
  await withWarmSoftEther(topo, work, o.flood, async (_se, seTarget) => {
    let k = 0;
    for (let round = 0; round < o.rounds; round++) {
      for (const mode of o.modes) {
        const order = round % 2 === 0 ? o.variants : [...o.variants].reverse();
        for (const variant of order) {
          const dir = join(work, `el-${round}-${mode}-${variant}`);
          mkdirSync(dir, { recursive: true });
          o.log(`  round ${round + 1}/${o.rounds}, ${mode}, ${variant} …`);
          let el: RunningSystem | undefined;
          try {
            el = await elinkSystem(mode, undefined, false, 'tls', variant).start(topo, dir);
            const elTarget = await reachable(topo, el.addresses[1]);
            const { cold, warm } = await coldThenWarm(elTarget, seTarget, o.flood, () => pairedWindow(elTarget, seTarget, o.pings, o.block));
            rounds.push({ mode, variant, round: k++, cold, warm });
            o.log(`    cold EL ${cold.el.avgMs.toFixed(3)}/${cold.el.p99Ms.toFixed(2)} SE ${cold.se.avgMs.toFixed(3)}/${cold.se.p99Ms.toFixed(2)}; warm EL ${warm.el.avgMs.toFixed(3)}/${warm.el.p99Ms.toFixed(2)} SE ${warm.se.avgMs.toFixed(3)}/${warm.se.p99Ms.toFixed(2)} ms`);
          } finally {
            await el?.stop();
          }
        }
      }
    }
  });
  return { pings: o.pings, block: o.block, flood: o.flood, rounds, summary: summarize(rounds) };
}
