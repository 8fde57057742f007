/** What the harness needs from each system it measures. */
import type { Topology } from './topology.js';

export interface RunningSystem {
  /** Overlay (inside-the-tunnel) IPv4 address of client 1 and client 2. */
  addresses: [string, string];
  /** Extra facts for the report (versions, settings). */
  notes: string[];
  stop(): Promise<void>;
}

export interface SystemDef {
  id: string;
  label: string;
  /** Brings up server and both clients in the topology; `work` is a scratch directory of its own. */
  start(topo: Topology, work: string): Promise<RunningSystem>;
}
