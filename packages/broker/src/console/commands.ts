/**
 * Commands for remote nodes (disconnect a session, drain): queued in the store per node,
 * taken by whichever broker answers that node's next heartbeat (reply `commands`).
 */
import { MAX_NODE_COMMANDS, nodeCommandSchema, type NodeCommand } from '@elink/protocol';
import type { BrokerStore } from '../store/store.js';
import { COMMAND_TTL_SECONDS, MAX_PENDING_COMMANDS } from './defaults.js';

const listOf = (node: string) => `cmd:${node}`;

export async function queueCommand(store: BrokerStore, node: string, command: NodeCommand): Promise<void> {
  await store.pushList(listOf(node), JSON.stringify(command), MAX_PENDING_COMMANDS, COMMAND_TTL_SECONDS);
}

/** The node's waiting commands, oldest first (gone from the store once taken). */
export async function takeCommands(store: BrokerStore, node: string): Promise<NodeCommand[]> {
  const raw = await store.takeList(listOf(node), MAX_NODE_COMMANDS);
  const out: NodeCommand[] = [];
  for (const r of raw) {
    const parsed = nodeCommandSchema.safeParse(JSON.parse(r));
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
