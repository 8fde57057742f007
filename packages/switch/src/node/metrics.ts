/**
 * Prometheus metrics of a switch node. The data path only bumps plain number
 * fields; the values are read here, in collect(), when the registry is scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { DROP_REASONS, type DropCounts } from '../core/drops.js';

export interface Traffic {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
}

export interface SegmentSnapshot {
  name: string;
  sessions: number;
  macEntries: number;
  evictions: number;
  moves: number;
  /** L3: routes (session addresses, delegated prefixes, uplink routes). */
  routes: number;
}

/** What the node exposes to the metrics (switch-node.ts). */
export interface SwitchMetricsSource {
  segmentSnapshots(): SegmentSnapshot[];
  sessionsOpened(): number;
  sessionsClosed(): ReadonlyMap<string, number>;
  sessionErrors(): ReadonlyMap<string, number>;
  /** Sessions established, by how they were admitted (admit.ts AdmissionWay). */
  admissions(): ReadonlyMap<string, number>;
  traffic(): Traffic;
  drops(): DropCounts;
  /** L3 router: ICMP errors sent, held back by the node-wide budget, and by a session's own. */
  icmp(): { sent: number; limited: number; sessionLimited: number };
  /** FRAME_GSO records segmented in software (for ports without offload). */
  gsoSegmented(): number;
  /** True from the start of a drain (SIGTERM) until the node stops. */
  draining(): boolean;
  /** Sessions the node admits at most (`switch.maxSessions`). */
  capacity(): number;
}

/** Sets a counter read at scrape time to `values` (labels → total), dropping series no longer there. */
export function setAll(c: Counter<string>, values: Iterable<[Record<string, string>, number]>): void {
  c.reset();
  for (const [labels, v] of values) c.inc(labels, v);
}

export function registerSwitchMetrics(registry: Registry, src: SwitchMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'el_switch_sessions',
    help: 'Established client sessions, by segment.',
    labelNames: ['segment'],
    registers,
    collect() {
      this.reset();
      for (const s of src.segmentSnapshots()) this.set({ segment: s.name }, s.sessions);
    },
  });
  new Counter({
    name: 'el_switch_sessions_opened_total',
    help: 'Client sessions established (welcome sent).',
    registers,
    collect() {
      this.reset();
      this.inc(src.sessionsOpened());
    },
  });
  new Counter({
    name: 'el_switch_sessions_closed_total',
    help: 'Established client sessions closed, by reason (client_bye, peer_closed, superseded, shutdown, or an EL_ERR_* code).',
    labelNames: ['reason'],
    registers,
    collect() {
      setAll(this, [...src.sessionsClosed()].map(([reason, v]) => [{ reason }, v]));
    },
  });
  new Counter({
    name: 'el_switch_admissions_total',
    help: 'Client sessions established, by how they were admitted: ticket (single use), device_key (ticket signature and device key proof), resume (resume proof, no signature check).',
    labelNames: ['way'],
    registers,
    collect() {
      setAll(this, [...src.admissions()].map(([way, v]) => [{ way }, v]));
    },
  });
  new Counter({
    name: 'el_switch_session_errors_total',
    help: 'Sessions ended with an error message, by EL_ERR_* code.',
    labelNames: ['code'],
    registers,
    collect() {
      setAll(this, [...src.sessionErrors()].map(([code, v]) => [{ code }, v]));
    },
  });
  new Counter({
    name: 'el_switch_frames_total',
    help: 'Frames received from (in) and written to (out) client sessions.',
    labelNames: ['direction'],
    registers,
    collect() {
      const t = src.traffic();
      setAll(this, [[{ direction: 'in' }, t.framesIn], [{ direction: 'out' }, t.framesOut]]);
    },
  });
  new Counter({
    name: 'el_switch_bytes_total',
    help: 'Frame bytes (payload of FRAME records) received from and written to client sessions.',
    labelNames: ['direction'],
    registers,
    collect() {
      const t = src.traffic();
      setAll(this, [[{ direction: 'in' }, t.bytesIn], [{ direction: 'out' }, t.bytesOut]]);
    },
  });
  new Counter({
    name: 'el_switch_frames_dropped_total',
    help: 'Frames dropped, by reason (see docs/operations.md: drop reasons).',
    labelNames: ['reason'],
    registers,
    collect() {
      const d = src.drops();
      setAll(this, DROP_REASONS.map((reason) => [{ reason }, d[reason]]));
    },
  });
  new Gauge({
    name: 'el_switch_mac_table_entries',
    help: 'Learned MAC table entries, by segment (pinned session MACs not included).',
    labelNames: ['segment'],
    registers,
    collect() {
      this.reset();
      for (const s of src.segmentSnapshots()) this.set({ segment: s.name }, s.macEntries);
    },
  });
  new Counter({
    name: 'el_switch_mac_table_evictions_total',
    help: 'MAC table entries evicted (least recently used) because the table was full, by segment.',
    labelNames: ['segment'],
    registers,
    collect() {
      setAll(this, src.segmentSnapshots().map((s) => [{ segment: s.name }, s.evictions]));
    },
  });
  new Counter({
    name: 'el_switch_mac_table_moves_total',
    help: 'MACs that moved from one port to another, by segment.',
    labelNames: ['segment'],
    registers,
    collect() {
      setAll(this, src.segmentSnapshots().map((s) => [{ segment: s.name }, s.moves]));
    },
  });
  new Gauge({
    name: 'el_switch_routes',
    help: 'L3 routes (session addresses, delegated prefixes, uplink routes), by segment.',
    labelNames: ['segment'],
    registers,
    collect() {
      this.reset();
      for (const s of src.segmentSnapshots()) this.set({ segment: s.name }, s.routes);
    },
  });
  new Counter({
    name: 'el_switch_icmp_errors_total',
    help: 'ICMP/ICMPv6 errors and gateway echo replies the L3 router sent, or held back by the node-wide (rate_limited) or the session\'s own budget (session_limited).',
    labelNames: ['result'],
    registers,
    collect() {
      const i = src.icmp();
      setAll(this, [
        [{ result: 'sent' }, i.sent],
        [{ result: 'rate_limited' }, i.limited],
        [{ result: 'session_limited' }, i.sessionLimited],
      ]);
    },
  });
  new Counter({
    name: 'el_switch_gso_segmented_total',
    help: 'FRAME_GSO records (TCP or UDP super-frames) the switch segmented in software for ports without offload (UDP ones also for ports without "uso").',
    registers,
    collect() {
      setAll(this, [[{}, src.gsoSegmented()]]);
    },
  });
  new Gauge({
    name: 'el_switch_draining',
    help: '1 while the node drains (refuses new sessions, redirects the others), else 0.',
    registers,
    collect() {
      this.set(src.draining() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'el_switch_session_capacity',
    help: 'Sessions this node admits at most (switch.maxSessions); compare with sum(el_switch_sessions).',
    registers,
    collect() {
      this.set(src.capacity());
    },
  });
}
