/**
 * What the broker does with nodes it has reason to think gone (suspicion.ts) and with the
 * node a client says it lost (header EL-Lost-Node): metrics, and reading the header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as prom from 'prom-client';
import { LOST_NODE_HEADER, parseLostNodeHeader, type ServerEntry } from '@elink/protocol';

export type LostNodeResult = 'ranked_last' | 'unknown' | 'invalid';
const LOST_NODE_RESULTS: readonly LostNodeResult[] = ['ranked_last', 'unknown', 'invalid'];
/** Why a node became suspect (one reason today: a trunk peer lost it). */
export const SUSPICION_REASONS = ['trunk_down'] as const;

export interface SuspicionMetrics {
  suspicions: prom.Counter<'reason'>;
  lossesWithdrawn: prom.Counter;
  lostNode: prom.Counter<'result'>;
}

/** `suspects` counts the suspect nodes now (undefined: the store did not answer; the gauge keeps its value). */
export function registerSuspicionMetrics(registry: prom.Registry, suspects: () => Promise<number | undefined>): SuspicionMetrics {
  const registers = [registry];
  new prom.Gauge({
    name: 'el_broker_nodes_suspect',
    help: 'Switch nodes a trunk peer lost after their last heartbeat: logins rank them after every other node until they heartbeat again.',
    registers,
    async collect() {
      const n = await suspects();
      if (n !== undefined) this.set(n);
    },
  });
  const suspicions = new prom.Counter({ name: 'el_broker_node_suspicions_total', help: 'Losses of a node heard by this broker, by reason (trunk_down: a trunk peer reported its trunk to the node down).', labelNames: ['reason'] as const, registers });
  for (const reason of SUSPICION_REASONS) suspicions.inc({ reason }, 0);
  const lossesWithdrawn = new prom.Counter({ name: 'el_broker_trunk_losses_withdrawn_total', help: 'Trunk losses withdrawn by a later heartbeat of their reporter: its trunk to the node came back up (a flapping trunk), so the node is no longer suspect by that reporter.', registers });
  const lostNode = new prom.Counter({ name: 'el_broker_lost_node_logins_total', help: 'Successful logins naming the node the client lost (header EL-Lost-Node), by result: ranked_last, unknown (no such node for the segment), invalid (the header ignored).', labelNames: ['result'] as const, registers });
  for (const result of LOST_NODE_RESULTS) lostNode.inc({ result }, 0);
  return { suspicions, lossesWithdrawn, lostNode };
}

/** The node a login request says its client lost, or undefined (absent or invalid: ignored, never refused). */
export function lostNodeOf(headers: IncomingHttpHeaders): { node?: string; invalid?: true } {
  const parsed = parseLostNodeHeader(headers[LOST_NODE_HEADER]);
  if ('node' in parsed) return { node: parsed.node };
  return parsed.ignored === 'invalid' ? { invalid: true } : {};
}

/** What the header did to a successful login's reply, for the log line and the counter. */
export function lostNodeResult(lost: { node?: string; invalid?: true }, servers: readonly ServerEntry[]): LostNodeResult | undefined {
  if (lost.invalid) return 'invalid';
  if (lost.node === undefined) return undefined;
  return servers.some((s) => s.node === lost.node) ? 'ranked_last' : 'unknown';
}
