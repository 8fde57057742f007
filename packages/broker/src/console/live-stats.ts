/**
 * Rates from the nodes' counters. Each node reports counters (heartbeat `report`, or the
 * in-process node directly); a sample reads the latest report of every node and, for a
 * node whose report is newer than the last one seen, divides the differences by the time
 * between the two. Remote nodes thus refresh their rates once a heartbeat interval, the
 * in-process node at every sample. A counter that went back (the node restarted) gives 0.
 * Samples are taken on demand (the events stream ticks once a second while a console
 * watches; each view request takes one), shared by concurrent callers. Rates need a base
 * report at least `minIntervalMs` old: a sample sooner than that shows the fresh report
 * (sessions, bytes) with the rates of the last interval.
 */
import type { NodeReport, TrafficCounters } from '@elink/protocol';
import type { BrokerStore } from '../store/store.js';
import { HISTORY_POINTS, MAX_HISTORY_SESSIONS } from './defaults.js';
import type { LocalNode } from './local-node.js';

export interface Rates {
  rxBps: number;
  txBps: number;
  rxPps: number;
  txPps: number;
}

export interface NodeView {
  node: string;
  /** When the report was made (ms since the epoch). */
  at: number;
  /** The report the rates were computed against next time, and when it was made. */
  base: { at: number; report: NodeReport };
  inProcess: boolean;
  report: NodeReport;
  rates: Rates;
  /** Drops per second by reason. */
  drops: Record<string, number>;
  segments: Record<string, Rates>;
  sessions: Map<string, { rxBps: number; txBps: number }>;
}

export interface HistoryPoint {
  t: number;
  rxBps: number;
  txBps: number;
}

export const ZERO_RATES: Readonly<Rates> = Object.freeze({ rxBps: 0, txBps: 0, rxPps: 0, txPps: 0 });

const per = (cur: number, prev: number, dt: number) => (cur >= prev && dt > 0 ? (cur - prev) / dt : 0);

function ratesOf(cur: TrafficCounters, prev: TrafficCounters | undefined, dt: number): Rates {
  if (!prev) return { ...ZERO_RATES };
  return { rxBps: per(cur.rxBytes, prev.rxBytes, dt), txBps: per(cur.txBytes, prev.txBytes, dt), rxPps: per(cur.rxFrames, prev.rxFrames, dt), txPps: per(cur.txFrames, prev.txFrames, dt) };
}

export interface LiveStatsOptions {
  store: BrokerStore;
  local?: LocalNode;
  /** A report older than this gives zero rates (the node is silent). */
  healthySeconds: number;
  now?: () => number;
  minIntervalMs?: number;
}

export class LiveStats {
  readonly #opts: LiveStatsOptions;
  readonly #now: () => number;
  #views = new Map<string, NodeView>();
  readonly #history = new Map<string, HistoryPoint[]>();
  #inflight: Promise<Map<string, NodeView>> | undefined;

  constructor(opts: LiveStatsOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The views of every reporting node, sampled now (or by a sample in flight). */
  async current(): Promise<Map<string, NodeView>> {
    this.#inflight ??= this.#sample().finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  /** A session's rate samples, oldest first. */
  history(session: string): HistoryPoint[] {
    return [...(this.#history.get(session) ?? [])];
  }

  async #sample(): Promise<Map<string, NodeView>> {
    const reports = await this.#opts.store.listNodeReports();
    const now = this.#now();
    const local = this.#opts.local;
    if (local) reports.push({ node: local.node, at: now, report: local.report() });
    const next = new Map<string, NodeView>();
    const staleBefore = now - this.#opts.healthySeconds * 1000;
    for (const { node, at, report } of reports) {
      const prev = this.#views.get(node);
      const inProcess = local?.node === node && at === now;
      if (prev && prev.at === at) {
        next.set(node, at < staleBefore ? { ...prev, rates: { ...ZERO_RATES }, drops: {}, segments: {}, sessions: new Map() } : prev);
        continue;
      }
      if (prev && at - prev.base.at < (this.#opts.minIntervalMs ?? 900)) {
        // Too soon for a rate: the fresh report, the last rates (a new session's are 0).
        next.set(node, { ...prev, at, report });
        continue;
      }
      next.set(node, this.#view(node, at, inProcess, report, prev?.base));
    }
    // History of sessions no node lists any more goes.
    const live = new Set<string>();
    for (const v of next.values()) for (const s of v.report.sessions) live.add(s.id);
    for (const id of this.#history.keys()) if (!live.has(id)) this.#history.delete(id);
    this.#views = next;
    return next;
  }

  #view(node: string, at: number, inProcess: boolean, report: NodeReport, prev: { at: number; report: NodeReport } | undefined): NodeView {
    const dt = prev ? (at - prev.at) / 1000 : 0;
    const drops: Record<string, number> = {};
    for (const [reason, n] of Object.entries(report.drops)) drops[reason] = prev ? per(n, prev.report.drops[reason] ?? 0, dt) : 0;
    const segments: Record<string, Rates> = {};
    for (const [name, c] of Object.entries(report.segments)) segments[name] = ratesOf(c, prev?.report.segments[name], dt);
    const before = new Map(prev?.report.sessions.map((s) => [s.id, s]) ?? []);
    const sessions = new Map<string, { rxBps: number; txBps: number }>();
    for (const s of report.sessions) {
      const p = before.get(s.id);
      const r = { rxBps: p ? per(s.rxBytes, p.rxBytes, dt) : 0, txBps: p ? per(s.txBytes, p.txBytes, dt) : 0 };
      sessions.set(s.id, r);
      if (p) this.#remember(s.id, { t: at, ...r });
    }
    return { node, at, base: { at, report }, inProcess, report, rates: ratesOf(report.traffic, prev?.report.traffic, dt), drops, segments, sessions };
  }

  #remember(id: string, point: HistoryPoint): void {
    let h = this.#history.get(id);
    if (!h) {
      if (this.#history.size >= MAX_HISTORY_SESSIONS) return;
      this.#history.set(id, (h = []));
    }
    h.push(point);
    if (h.length > HISTORY_POINTS) h.splice(0, h.length - HISTORY_POINTS);
  }
}
