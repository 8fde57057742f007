/**
 * The switch node of this process (`elink up`): it reports to the broker directly instead
 * of through heartbeats, and takes the console's actions at once.
 */
import type { HeartbeatRequest, NodeReport } from '@elink/protocol';

export interface LocalNode {
  readonly node: string;
  /** What its heartbeat would say (the registry's fields). */
  status(): Omit<HeartbeatRequest, 'report'>;
  report(): NodeReport;
  /** Ends one session; false when it is not live here. */
  kick(session: string, reason: string): boolean;
  /** Starts draining (resolves at once; the sessions move in the background). */
  drain(): void;
}
