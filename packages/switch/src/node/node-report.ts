/**
 * The console's view of one switch node (heartbeat `report`, docs/console.md): counters
 * since start, per segment and per session, and the MAC tables / routes, each list capped
 * (MAX_REPORT_SESSIONS, MAX_REPORT_TABLE). Built on demand, once per heartbeat or console
 * sample, never on the data path.
 */
import { formatMac, MAX_REPORT_SESSIONS, MAX_REPORT_TABLE, type NodeReport, type ReportSession, type ReportTableEntry, type TrafficCounters } from '@elink/protocol';
import type { Port } from '../core/port.js';
import { L2Segment } from '../core/l2/l2-segment.js';
import { formatPrefix } from '../core/l3/ip.js';
import { L3Segment } from '../core/l3/l3-segment.js';
import type { SwitchNode } from './switch-node.js';

export interface NodeReportLimits {
  sessions?: number;
  table?: number;
}

/** How the console names a port: a session by its id, a TAP bridge `bridge`, a TUN uplink `uplink`, a trunk `trunk:<peer node>`. */
export function portLabel(port: Port): string {
  switch (port.kind) {
    case 'session':
      return port.name;
    case 'tap':
      return 'bridge';
    case 'tun':
      return 'uplink';
    case 'trunk':
      return `trunk:${port.name.slice('trunk:'.length).split('/')[0]}`;
    default:
      return port.name;
  }
}

export function nodeReport(node: SwitchNode, limits: NodeReportLimits = {}): NodeReport {
  const maxSessions = Math.min(limits.sessions ?? MAX_REPORT_SESSIONS, MAX_REPORT_SESSIONS);
  const maxTable = Math.min(limits.table ?? MAX_REPORT_TABLE, MAX_REPORT_TABLE);
  const stats = node.stats;
  const segments: NodeReport['segments'] = {};
  for (const name of node.hostedSegments()) {
    const past = node.pastSegmentTraffic.get(name);
    segments[name] = { rxBytes: past?.bytesIn ?? 0, txBytes: past?.bytesOut ?? 0, rxFrames: past?.framesIn ?? 0, txFrames: past?.framesOut ?? 0, sessions: 0 };
  }
  const sessions: ReportSession[] = [];
  let sessionsTruncated = false;
  for (const s of node.liveSessions()) {
    const c = s.claims;
    const seg = s.segment && segments[s.segment.name];
    // Counted per segment whatever its state, so a segment's counters never step back when a session closes.
    if (seg) {
      seg.rxBytes += s.bytesIn;
      seg.txBytes += s.output.bytesOut;
      seg.rxFrames += s.framesIn;
      seg.txFrames += s.output.framesOut;
    }
    if (s.state !== 'established' || !c) continue;
    if (seg) seg.sessions++;
    if (sessions.length >= maxSessions) {
      sessionsTruncated = true;
      continue;
    }
    const addresses = [c.ipv4, c.ipv6, c.prefix, c.prefix4].filter((a): a is string => a !== undefined);
    sessions.push({ id: s.name, user: c.sub, ...(c.dev !== undefined ? { device: c.dev } : {}), segment: c.seg, addresses, ...(c.mac !== undefined ? { mac: c.mac } : {}), since: s.openedAt, rxBytes: s.bytesIn, txBytes: s.output.bytesOut });
  }
  const table: ReportTableEntry[] = [];
  let tableTruncated = false;
  const add = (segment: string, key: string, port: Port): boolean => {
    if (table.length >= maxTable) return !(tableTruncated = true);
    table.push({ segment, key, port: portLabel(port) });
    return true;
  };
  outer: for (const name of node.hostedSegments()) {
    const seg = node.segmentByName(name);
    if (seg instanceof L2Segment) {
      for (const [mac, port] of seg.table.allEntries()) if (!add(name, formatMac(mac), port)) break outer;
    } else if (seg instanceof L3Segment) {
      for (const [prefix, port] of seg.routeEntries()) if (!add(name, formatPrefix(prefix), port)) break outer;
    }
  }
  const drops: Record<string, number> = {};
  for (const [reason, n] of Object.entries(stats.drops)) if (n > 0) drops[reason] = n;
  const traffic: TrafficCounters = { rxBytes: stats.traffic.bytesIn, txBytes: stats.traffic.bytesOut, rxFrames: stats.traffic.framesIn, txFrames: stats.traffic.framesOut };
  return {
    ...(node.software ? { software: node.software.slice(0, 64) } : {}),
    traffic,
    drops,
    segments,
    sessions,
    ...(sessionsTruncated ? { sessionsTruncated } : {}),
    table,
    ...(tableTruncated ? { tableTruncated } : {}),
    ...(node.trunks ? { trunks: node.trunks.report() } : {}),
  };
}
